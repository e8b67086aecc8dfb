package controller

import (
	"context"
	"io"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
)

// KeyReconciler keeps the signing keys: it creates them when they are missing, rotates them when a
// person asks (the annotation licensing.partnerops.io/rotate: a new key signs, the old ones still
// verify), and retires the old keys once every entitlement is signed with the active one.
type KeyReconciler struct {
	client.Client
	// Namespace is the operator's namespace, which holds the signing key Secret.
	Namespace string
	Rand      io.Reader
}

// signingKeys reads the signing keys from c; nil when the Secret does not exist yet.
func signingKeys(ctx context.Context, c client.Reader, namespace string) (*entitlement.Keys, error) {
	s := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: v1alpha1.SigningKeySecret}, s); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	keys, err := entitlement.ParseKeys(s.Data)
	if err != nil {
		return nil, err
	}
	return &keys, nil
}

// Reconcile creates, rotates or retires the signing keys.
func (r *KeyReconciler) Reconcile(ctx context.Context, _ ctrl.Request) (ctrl.Result, error) {
	s := &corev1.Secret{}
	if err := r.Get(ctx, r.key(), s); apierrors.IsNotFound(err) {
		return ctrl.Result{}, client.IgnoreAlreadyExists(r.create(ctx))
	} else if err != nil {
		return ctrl.Result{}, err
	}
	keys, err := entitlement.ParseKeys(s.Data)
	if err != nil {
		return ctrl.Result{}, err // a person must mend or delete the Secret: the error says what is wrong
	}
	if want := s.Annotations[v1alpha1.RotateAnnotation]; want != "" && want != s.Annotations[v1alpha1.RotatedAnnotation] {
		next, err := entitlement.NewKey(r.Rand)
		if err != nil {
			return ctrl.Result{}, err
		}
		s.Annotations[v1alpha1.RotatedAnnotation] = want
		log.FromContext(ctx).Info("signing key rotated", "active", next.ID, "retiring", keys.Active)
		return settle(ctx, ctrl.Result{}, r.write(ctx, s, keys.Rotate(next)))
	}
	if len(keys.Keys) == 1 {
		return ctrl.Result{}, nil
	}
	list := &corev1.SecretList{}
	if err := r.List(ctx, list, client.MatchingLabels{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelToken}); err != nil {
		return ctrl.Result{}, err
	}
	for i := range list.Items {
		if kid, _, err := entitlement.Unverified(string(list.Items[i].Data[v1alpha1.EntitlementTokenKey])); err != nil || kid != keys.Active {
			return ctrl.Result{}, nil // not every entitlement is re-issued yet: its write brings this back
		}
	}
	log.FromContext(ctx).Info("retiring keys: every entitlement is signed with the active key", "active", keys.Active, "entitlements", len(list.Items))
	return settle(ctx, ctrl.Result{}, r.write(ctx, s, keys.Retire()))
}

func (r *KeyReconciler) key() types.NamespacedName {
	return types.NamespacedName{Namespace: r.Namespace, Name: v1alpha1.SigningKeySecret}
}

// create creates the signing key Secret with one new key.
func (r *KeyReconciler) create(ctx context.Context) error {
	key, err := entitlement.NewKey(r.Rand)
	if err != nil {
		return err
	}
	data, err := entitlement.Keys{Active: key.ID, Keys: []entitlement.Key{key}}.Data()
	if err != nil {
		return err
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.SigningKeySecret, Namespace: r.Namespace,
		Labels: map[string]string{v1alpha1.EntitlementLabel: v1alpha1.EntitlementLabelSigningKeys}}, Type: corev1.SecretTypeOpaque, Data: data}
	if err := r.Create(ctx, s, client.FieldOwner(FieldOwner)); err != nil {
		return err
	}
	log.FromContext(ctx).Info("signing key created", "namespace", r.Namespace, "kid", key.ID)
	return nil
}

// write updates the signing key Secret with keys, guarded by the resourceVersion read.
func (r *KeyReconciler) write(ctx context.Context, s *corev1.Secret, keys entitlement.Keys) error {
	data, err := keys.Data()
	if err != nil {
		return err
	}
	s.Data = data
	return r.Update(ctx, s, client.FieldOwner(FieldOwner))
}

// ensureAtStart creates the signing keys on the operator's first start, once it leads, before an
// entitlement needs them: from the API server, as the cache may not hold them yet.
func (r *KeyReconciler) ensureAtStart(live client.Reader) manager.Runnable {
	return manager.RunnableFunc(func(ctx context.Context) error {
		err := live.Get(ctx, r.key(), &corev1.Secret{})
		if apierrors.IsNotFound(err) {
			err = client.IgnoreAlreadyExists(r.create(ctx))
		}
		if err != nil {
			log.FromContext(ctx).Error(err, "creating the signing keys; the key reconciler tries again")
		}
		return nil
	})
}

// SetupWithManager registers the reconciler of the signing key Secret; an entitlement written
// brings it back, to retire the old keys once every entitlement is re-issued.
func (r *KeyReconciler) SetupWithManager(mgr ctrl.Manager) error {
	toKeys := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: r.key()}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("signingkeys").
		Watches(&corev1.Secret{}, toKeys, builder.WithPredicates(predicate.Or(labelled(v1alpha1.EntitlementLabelToken), labelled(v1alpha1.EntitlementLabelSigningKeys)))).
		Complete(r)
}
