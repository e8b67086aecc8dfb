package plugin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/entitlement"
	verify "github.com/partnerops/license-operator/pkg/entitlement"
)

// defaultOperatorNamespace is the namespace config/default deploys the operator in.
const defaultOperatorNamespace = "license-operator-system"

func (a *app) entitlementCommand() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "entitlement [--verify]",
		Short: "Show a namespace's signed entitlement: what its customer may use, and until when",
		Long: `Shows the entitlement license-operator issued for the namespace (the Secret license-entitlement):
its products in force, licenses and what they include, when it was issued and when it expires.
With --verify, the token is verified as a service verifies it, offline, against the public keys
published in the namespace (the ConfigMap license-entitlement-keys): signature, key id, algorithm,
issuer, not-before and expiry. -o json prints the decoded claims.`,
		Example: `  kubectl license entitlement -n acme
  kubectl license entitlement -n acme --verify
  kubectl license entitlement -n acme -o json`,
		Args: cobra.NoArgs,
	}
	cmd.Flags().BoolVar(&check, "verify", false, "verify the token against the published public keys")
	format := addOutputFlag(cmd, "text", "json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.runEntitlement(cmd.Context(), check, format.value)
	}
	return cmd
}

func (a *app) runEntitlement(ctx context.Context, check bool, format string) error {
	s := &corev1.Secret{}
	c, ns, err := a.get(ctx, "entitlement Secret", v1alpha1.EntitlementSecret, s)
	if err != nil {
		return fmt.Errorf("%w: the operator issues one once a plan of the namespace is in force", err)
	}
	token := string(s.Data[v1alpha1.EntitlementTokenKey])
	kid, claims, err := entitlement.Unverified(token)
	if err != nil {
		return fmt.Errorf("secret %s/%s holds no entitlement token in data.%s: %v", ns, v1alpha1.EntitlementSecret, v1alpha1.EntitlementTokenKey, err)
	}
	var verdict error
	if check {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, types.NamespacedName{Namespace: ns, Name: v1alpha1.EntitlementKeysConfigMap}, cm); err != nil {
			return notFound(err, "configmap", v1alpha1.EntitlementKeysConfigMap, ns)
		}
		keys, err := verify.ParseKeySet([]byte(cm.Data[v1alpha1.EntitlementJWKSKey]))
		if err != nil {
			return err
		}
		v := verify.Verifier{Keys: keys, Now: a.clock.Now}
		_, verdict = v.Verify(token)
	}
	if format == "json" {
		if _, err := a.Out.Write(entitlement.Decoded(claims)); err != nil {
			return err
		}
	} else if err := a.writeEntitlement(ns, kid, claims, check, verdict); err != nil {
		return err
	}
	if verdict != nil {
		return fmt.Errorf("the entitlement of namespace %q does not verify: %v", ns, verdict)
	}
	return nil
}

// writeEntitlement prints an entitlement for people.
func (a *app) writeEntitlement(ns, kid string, c verify.Claims, checked bool, verdict error) error {
	now := a.clock.Now()
	var b strings.Builder
	fmt.Fprintf(&b, "Entitlement:  %s/%s\n", ns, v1alpha1.EntitlementSecret)
	if c.Customer != "" {
		fmt.Fprintf(&b, "Customer:     %s\n", c.Customer)
	}
	fmt.Fprintf(&b, "Issuer:       %s (key %s)\n", c.Issuer, kid)
	if c.IssuedAt != nil {
		fmt.Fprintf(&b, "Issued:       %s (%s)\n", stamp(c.IssuedAt.Time()), inWords(c.IssuedAt.Time(), now))
	}
	if c.Expiry != nil {
		when := inWords(c.Expiry.Time(), now)
		if !c.Expiry.Time().After(now) {
			when = "expired " + when
		}
		fmt.Fprintf(&b, "Expires:      %s (%s)\n", stamp(c.Expiry.Time()), when)
	}
	switch {
	case checked && verdict == nil:
		fmt.Fprintf(&b, "Verified:     yes, against the published keys (configmap %s)\n", v1alpha1.EntitlementKeysConfigMap)
	case checked:
		fmt.Fprintf(&b, "Verified:     NO: %v\n", verdict)
	}
	if len(c.Products) == 0 {
		b.WriteString("\nNo plan in force: the entitlement grants nothing.\n")
		_, err := fmt.Fprint(a.Out, b.String())
		return err
	}
	b.WriteString("\n")
	if _, err := fmt.Fprint(a.Out, b.String()); err != nil {
		return err
	}
	t := &table{header: []string{"plan", "product", "sku", "family", "licenses", "includes", "payment", "term end", "action", "revision"}}
	for _, p := range c.Products {
		var includes []string
		for _, in := range p.Includes {
			includes = append(includes, fmt.Sprintf("%d %s", in.Quantity, in.Product))
		}
		t.addText(p.Plan, p.Name, p.SKU, p.Family, fmt.Sprint(p.Licenses), strings.Join(includes, ", "), p.PaymentPlan, p.TermEnd, p.RenewalAction, p.Revision)
	}
	return t.write(a.Out, a.coloured(a.Out))
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }

// inWords says how far t is from now: "in 28d", "2d ago".
func inWords(t, now time.Time) string {
	if t.After(now) {
		return "in " + duration.HumanDuration(t.Sub(now))
	}
	return duration.HumanDuration(now.Sub(t)) + " ago"
}

func (a *app) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "The keys that sign the entitlements",
	}
	var namespace string
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Ask the operator for a new signing key",
		Long: `Asks license-operator to rotate the key that signs the entitlements (an annotation on the Secret
license-operator-signing-keys in the operator's namespace; the key never leaves it). The operator
makes a new key, which signs from then on, and re-issues every entitlement with it; the old key is
still published, and verifies the entitlements not re-issued yet, until every entitlement is
re-issued: then it is retired, and no longer published.`,
		Example: `  kubectl license keys rotate
  kubectl license keys rotate --operator-namespace license-operator-system`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runRotate(cmd.Context(), namespace)
		},
	}
	rotate.Flags().StringVar(&namespace, "operator-namespace", defaultOperatorNamespace, "the namespace of the operator and its signing keys")
	cmd.AddCommand(rotate)
	return cmd
}

func (a *app) runRotate(ctx context.Context, namespace string) error {
	c, err := a.client(nil)
	if err != nil {
		return err
	}
	s := &corev1.Secret{}
	if err := c.Get(ctx, types.NamespacedName{Namespace: namespace, Name: v1alpha1.SigningKeySecret}, s); err != nil {
		return notFound(err, "secret", v1alpha1.SigningKeySecret, namespace)
	}
	before := s.DeepCopy()
	if s.Annotations == nil {
		s.Annotations = map[string]string{}
	}
	at := a.clock.Now().UTC().Format(time.RFC3339Nano)
	s.Annotations[v1alpha1.RotateAnnotation] = at
	if err := c.Patch(ctx, s, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}), client.FieldOwner(fieldManager)); err != nil {
		return explain(err)
	}
	keys, _ := entitlement.ParseKeys(before.Data)
	_, err = fmt.Fprintf(a.Out, "signing key rotation requested (%s=%s): the operator makes a new key and re-issues every entitlement with it; key %s verifies until then, and is retired after\n",
		v1alpha1.RotateAnnotation, at, keys.Active)
	return err
}
