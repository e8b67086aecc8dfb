package controller

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	"github.com/partnerops/license-operator/internal/lookup"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

// EntitlementOptions configure the issuer of entitlements.
type EntitlementOptions struct {
	// Namespace is the operator's namespace, which holds the signing key Secret.
	Namespace string
	// Policy is who issues, and for how long an entitlement is valid (entitlement.DefaultPolicy()
	// when its Issuer is empty).
	Policy entitlement.Policy
	// Rand is the source of new keys (crypto/rand when nil).
	Rand io.Reader
}

// setupEntitlements registers the issuer of entitlements: a reconciler per customer namespace, and
// one of the signing keys.
func setupEntitlements(mgr ctrl.Manager, clk clock.PassiveClock, o EntitlementOptions) error {
	if o.Policy.Issuer == "" {
		o.Policy = entitlement.DefaultPolicy()
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	keys := &KeyReconciler{Client: mgr.GetClient(), Namespace: o.Namespace, Rand: o.Rand}
	if err := mgr.Add(keys.ensureAtStart(mgr.GetAPIReader())); err != nil {
		return err
	}
	if err := keys.SetupWithManager(mgr); err != nil {
		return err
	}
	return (&EntitlementReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Clock: clk,
		Namespace: o.Namespace, Policy: o.Policy, changes: newBursts(entitlementSettle, entitlementMaxWait)}).SetupWithManager(mgr)
}

// EntitlementReconciler issues the entitlement of a customer namespace: from what its plans hold
// in force (their status), it writes the Secret license-entitlement, signed with the active key,
// and the ConfigMap of the public keys that verify it. It writes only when the claims change,
// when the entitlement is due for renewal (Renewal), when another key signs now, or when the
// Secret is not what the operator wrote (edited by hand): a restart, or an idle operator, writes
// nothing. A reconcile request names the namespace's Secret.
type EntitlementReconciler struct {
	client.Client
	APIReader client.Reader
	Clock     clock.PassiveClock
	// Namespace is the operator's namespace, which holds the signing key Secret.
	Namespace string
	Policy    entitlement.Policy

	// changes holds, per namespace, the burst of its plans' changes not issued yet.
	changes *bursts
}

// +kubebuilder:rbac:groups="",resources=secrets;configmaps,verbs=get;list;watch;create;update

// Reconcile issues one namespace's entitlement, if it needs issuing, and says when to look again.
func (r *EntitlementReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	if w := r.changes.wait(req.NamespacedName); w > 0 {
		return ctrl.Result{RequeueAfter: w}, nil // the namespace's plans are still changing
	}
	keys, err := signingKeys(ctx, r, r.Namespace)
	if err != nil || keys == nil {
		return ctrl.Result{RequeueAfter: conflictRetry}, err // the key reconciler creates the keys
	}
	ns := req.Namespace
	plans := &v1alpha1.CustomerLicensePlanList{}
	// The cache's own objects, not copies: Grant only reads them, and a namespace of many plans
	// issued while they come costs no copy of each.
	if err := r.List(ctx, plans, client.InNamespace(ns), client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	// The cache's own Secret too: issue reads it, and writes a new object.
	secret := &corev1.Secret{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementSecret}, secret, client.UnsafeDisableDeepCopy); apierrors.IsNotFound(err) {
		secret = nil
	} else if err != nil {
		return ctrl.Result{}, err
	}
	var products []string
	for i := range plans.Items {
		if p := plans.Items[i].Status.Product; p != "" {
			products = append(products, p)
		}
	}
	catalog, err := lookup.Catalog(ctx, r, products...)
	if err != nil {
		return ctrl.Result{}, err
	}
	now := r.Clock.Now()
	grant := entitlement.Grant(ns, plans.Items, catalog, r.Policy, now)
	if secret == nil && len(grant.Products) == 0 {
		return ctrl.Result{}, nil // nothing in force yet: the plan's status write brings it back
	}
	next, err := r.issue(ctx, ns, secret, grant, *keys, now)
	if err != nil || next.IsZero() {
		return settle(ctx, ctrl.Result{}, err) // issued nothing: the namespace is being deleted
	}
	if err := r.publish(ctx, ns, *keys); err != nil {
		return settle(ctx, ctrl.Result{}, err)
	}
	return ctrl.Result{RequeueAfter: max(next.Sub(now), time.Second)}, nil
}

// issue writes the entitlement Secret if it is to be written, and returns when to look again.
func (r *EntitlementReconciler) issue(ctx context.Context, ns string, secret *corev1.Secret, grant verify.Claims, keys entitlement.Keys, now time.Time) (time.Time, error) {
	if secret != nil {
		if keep, next := r.current(secret, grant, keys, now); keep {
			return next, nil
		}
	}
	signer, _ := keys.Signer()
	claims := entitlement.Stamp(grant, r.Policy, now)
	token, err := entitlement.Sign(claims, signer)
	if err != nil {
		return time.Time{}, err
	}
	_, next := entitlement.Renewal(r.Policy, claims, claims.IssuedAt.Time(), claims.Expiry.Time(), now)
	want := entitlementSecret(ns, token, claims)
	if secret == nil {
		err := r.Create(ctx, want, client.FieldOwner(FieldOwner))
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return time.Time{}, nil // the namespace is being deleted, and its entitlement with it
		}
		if !apierrors.IsAlreadyExists(err) {
			if err == nil {
				log.FromContext(ctx).Info("entitlement issued", "namespace", ns, "products", len(claims.Products), "expires", claims.Expiry.Time())
			}
			return next, err
		}
		// Not in the cache: not labelled as the operator's (edited by hand), or just created.
		secret = &corev1.Secret{}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(want), secret); err != nil {
			return time.Time{}, err
		}
		if keep, next := r.current(secret, grant, keys, now); keep {
			return next, nil
		}
	}
	want.ResourceVersion = secret.ResourceVersion // guarded: a concurrent write fails, and is retried
	if err := r.Update(ctx, want, client.FieldOwner(FieldOwner)); err != nil {
		return time.Time{}, err
	}
	log.FromContext(ctx).Info("entitlement re-issued", "namespace", ns, "products", len(claims.Products), "expires", claims.Expiry.Time())
	return next, nil
}

// current reports whether secret holds an entitlement that may stay as it is: the operator's
// (type, label), verified with the active key, granting what grant says, its decoded claims
// those of its token, and not due for renewal; next is when to look again.
func (r *EntitlementReconciler) current(secret *corev1.Secret, grant verify.Claims, keys entitlement.Keys, now time.Time) (keep bool, next time.Time) {
	if secret.Type != v1alpha1.EntitlementSecretType || secret.Labels[v1alpha1.EntitlementLabel] != v1alpha1.EntitlementLabelToken || len(secret.Data) != 2 {
		return false, time.Time{}
	}
	active := keys.Retire() // a token of a retiring key is re-issued with the active one
	v := verify.Verifier{Keys: active.Public(), Issuer: r.Policy.Issuer, Skew: time.Nanosecond, Now: func() time.Time { return now }}
	c, err := v.Verify(string(secret.Data[v1alpha1.EntitlementTokenKey]))
	if err != nil || !entitlement.SameGrant(*c, grant) || !bytes.Equal(secret.Data[v1alpha1.EntitlementClaimsKey], entitlement.Decoded(*c)) {
		return false, time.Time{}
	}
	reissue, next := entitlement.Renewal(r.Policy, *c, c.IssuedAt.Time(), c.Expiry.Time(), now)
	return !reissue, next
}

// entitlementSecret is the Secret of an entitlement.
func entitlementSecret(ns, token string, c verify.Claims) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.EntitlementSecret, Namespace: ns,
			Labels: map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}},
		Type: v1alpha1.EntitlementSecretType,
		Data: map[string][]byte{v1alpha1.EntitlementTokenKey: []byte(token), v1alpha1.EntitlementClaimsKey: entitlement.Decoded(c)},
	}
}

// publish writes the namespace's ConfigMap of public keys, if it is not what the keys say.
func (r *EntitlementReconciler) publish(ctx context.Context, ns string, keys entitlement.Keys) error {
	want := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.EntitlementKeysConfigMap, Namespace: ns,
			Labels: map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelKeys}},
		Data: map[string]string{v1alpha1.EntitlementJWKSKey: string(keys.PublicJSON())},
	}
	cm := &corev1.ConfigMap{}
	err := r.Get(ctx, client.ObjectKeyFromObject(want), cm)
	if apierrors.IsNotFound(err) {
		err = r.Create(ctx, want, client.FieldOwner(FieldOwner))
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return err
		}
		if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(want), cm); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if cm.Labels[v1alpha1.EntitlementLabel] == v1alpha1.EntitlementLabelKeys && len(cm.Data) == 1 && len(cm.BinaryData) == 0 &&
		cm.Data[v1alpha1.EntitlementJWKSKey] == want.Data[v1alpha1.EntitlementJWKSKey] {
		return nil
	}
	want.ResourceVersion = cm.ResourceVersion
	return r.Update(ctx, want, client.FieldOwner(FieldOwner))
}

// SetupWithManager registers the reconciler: a namespace is looked at when a plan of it changes
// what it holds in force, when its entitlement Secret or key ConfigMap changes, and every
// namespace with an entitlement when the catalog or the signing keys change.
func (r *EntitlementReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("entitlement").
		Watches(&v1alpha1.CustomerLicensePlan{}, r.namespaceOfPlan(), builder.WithPredicates(inForceChanged)).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.secretChanged)).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(namespaceOf),
			builder.WithPredicates(labelled(v1alpha1.EntitlementLabelKeys))).
		Watches(&v1alpha1.LicenseProduct{}, handler.EnqueueRequestsFromMapFunc(r.everyEntitlement),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Complete(r)
}

// entitlementSettle is how long a namespace's entitlement waits after the last change of its plans
// before it is issued: the plans of a namespace put in force together (a GitOps sync, a catch-up
// after an outage) are issued in one write, not one per plan. entitlementMaxWait bounds the wait
// from the first change: a namespace whose plans change without pause is issued at least that
// often.
const (
	entitlementSettle  = time.Second
	entitlementMaxWait = 5 * time.Second
)

// namespaceOfPlan maps a plan to its namespace's entitlement, to be looked at entitlementSettle
// later; the queue keeps one request per namespace, however many plans change meanwhile, and the
// namespace waits until the burst of its plans' changes settles (bursts).
func (r *EntitlementReconciler) namespaceOfPlan() handler.EventHandler {
	add := func(o client.Object, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		req := namespaceOf(context.Background(), o)[0]
		r.changes.event(req.NamespacedName)
		q.AddAfter(req, entitlementSettle)
	}
	return handler.TypedFuncs[client.Object, reconcile.Request]{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.ObjectNew, q)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			add(e.Object, q)
		},
	}
}

// namespaceOf maps an object to its namespace's entitlement.
func namespaceOf(_ context.Context, o client.Object) []reconcile.Request {
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.GetNamespace(), Name: v1alpha1.EntitlementSecret}}}
}

// secretChanged maps an entitlement Secret to its namespace, and the signing key Secret to every
// namespace with an entitlement.
func (r *EntitlementReconciler) secretChanged(ctx context.Context, o client.Object) []reconcile.Request {
	switch o.GetLabels()[v1alpha1.EntitlementLabel] {
	case v1alpha1.EntitlementLabelToken:
		return namespaceOf(ctx, o)
	case v1alpha1.EntitlementLabelSigningKeys:
		if o.GetNamespace() == r.Namespace && o.GetName() == v1alpha1.SigningKeySecret {
			return r.everyEntitlement(ctx, o)
		}
	}
	return nil
}

// everyEntitlement maps to every namespace with an entitlement.
func (r *EntitlementReconciler) everyEntitlement(ctx context.Context, _ client.Object) []reconcile.Request {
	list := &corev1.SecretList{}
	// No copies of the entitlements (some 70 KB each for 100 plans): only their namespaces are read.
	if err := r.List(ctx, list, client.MatchingLabels{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}, client.UnsafeDisableDeepCopy); err != nil {
		log.FromContext(ctx).Error(err, "listing the entitlements")
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, namespaceOf(ctx, &list.Items[i])...)
	}
	return out
}

// labelled selects the objects of one value of the entitlement label.
func labelled(value string) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetLabels()[v1alpha1.EntitlementLabel] == value })
}

// inForceChanged lets through the plan events that may change an entitlement: a plan created or
// deleted, a change of what it holds in force (its entitlement revision), or of its customer.
var inForceChanged = predicate.Funcs{
	UpdateFunc: func(e event.UpdateEvent) bool {
		a, b := e.ObjectOld.(*v1alpha1.CustomerLicensePlan), e.ObjectNew.(*v1alpha1.CustomerLicensePlan)
		return a.Status.EntitlementRevision != b.Status.EntitlementRevision || a.Spec.Customer != b.Spec.Customer
	},
}
