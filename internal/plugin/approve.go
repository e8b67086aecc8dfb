package plugin

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// approveCommand is `approve ORDER` (approve true) or `deny ORDER` (approve false).
func (a *app) approveCommand(approve bool) *cobra.Command {
	var message string
	cmd := &cobra.Command{
		Use:   "approve ORDER [--message M]",
		Short: "Approve an order that awaits a person's approval",
		Long: `Approve a LicenseOrder in state AwaitingApproval: add its Approved condition with status "True"
through the status subresource. The operator's webhook checks that you hold the verb approve on
licenseorders (the license-approver role) and records your name; the order is then fulfilled.`,
		Example: `  kubectl license approve -n acme connect-standard-ms-2 --message "PO 4711 signed"`,
		Args:    exactlyOne("ORDER"),
	}
	status := "True"
	if !approve {
		status = "False"
		cmd.Use = "deny ORDER --message M"
		cmd.Short = "Deny an order that awaits a person's approval"
		cmd.Long = `Deny a LicenseOrder in state AwaitingApproval: add its Approved condition with status "False"
and your reason, through the status subresource. The order is rejected (reason Denied), and the
plan is not ordered again until its spec changes.`
		cmd.Example = `  kubectl license deny -n acme connect-standard-ms-2 --message "over budget this quarter"`
	}
	cmd.Flags().StringVarP(&message, "message", "m", "", "why, for the order's record (required to deny)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !approve && message == "" {
			return fmt.Errorf("deny needs --message: say why the order is denied, for the order's record")
		}
		return a.runApprove(cmd.Context(), args[0], status, message)
	}
	return cmd
}

// approvalPatch is the JSON patch that adds the Approved condition, as the README shows.
func approvalPatch(status, message string) ([]byte, error) {
	value := map[string]string{"type": v1alpha1.OrderApproved, "status": status}
	if message != "" {
		value["message"] = message
	}
	return json.Marshal([]map[string]any{{"op": "add", "path": "/status/conditions/-", "value": value}})
}

func (a *app) runApprove(ctx context.Context, name, status, message string) error {
	order := &v1alpha1.LicenseOrder{}
	c, ns, err := a.get(ctx, "order", name, order)
	if err != nil {
		return err
	}
	verb := "approve"
	if status == "False" {
		verb = "deny"
	}
	if cond := meta.FindStatusCondition(order.Status.Conditions, v1alpha1.OrderApproved); cond != nil && order.Status.State == v1alpha1.OrderAwaitingApproval {
		return fmt.Errorf("order %q in namespace %q is decided already: Approved is %s (%s), and it never changes once set", name, ns, cond.Status, cond.Message)
	}
	if order.Status.State != v1alpha1.OrderAwaitingApproval {
		state := string(order.Status.State)
		if state == "" {
			state = "not yet processed"
		}
		why := ""
		if cond := meta.FindStatusCondition(order.Status.Conditions, v1alpha1.OrderApproved); cond != nil {
			why = fmt.Sprintf(" (Approved is %s: %s)", cond.Status, cond.Message)
		}
		return fmt.Errorf("order %q in namespace %q is %s, not AwaitingApproval: there is nothing to %s%s", name, ns, state, verb, why)
	}
	patch, err := approvalPatch(status, message)
	if err != nil {
		return err
	}
	if err := c.Status().Patch(ctx, order, client.RawPatch(types.JSONPatchType, patch)); err != nil {
		return notFound(err, "order", name, ns)
	}
	done := "approved"
	if status == "False" {
		done = "denied"
	}
	record := ""
	if cond := meta.FindStatusCondition(order.Status.Conditions, v1alpha1.OrderApproved); cond != nil && cond.Message != "" {
		record = ": " + cond.Message
	}
	_, err = fmt.Fprintf(a.Out, "order %s/%s %s (%s of %d x %s, %s)%s\n", ns, name, done, order.Spec.Change, order.Spec.Quantity,
		order.Spec.Product, orDash(chargeText(order)), record)
	return err
}
