package controller

import (
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/samples"
)

// The samples are what a newcomer sees first (make demo, make samples): every object must be
// accepted by the API server, and every plan must come into force without a refused order.
var _ = Describe("The samples", func() {
	It("apply cleanly and every sample plan comes into force", func() {
		// The samples are dated as the README's tour is (a plan starting 2026-11-01): a start date
		// may lie at most 31 days ahead of the day it is ordered.
		fakeClock.SetTime(at("2026-11-23", 9))
		objs, err := samples.Read(filepath.Join("..", "..", "config", "samples"))
		Expect(err).NotTo(HaveOccurred())
		plans := map[client.ObjectKey]bool{}
		// The samples' BillingProfile would change the cost centers and currency of other specs.
		DeferCleanup(deleteProfile)
		for _, o := range objs {
			Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.Obj), client.FieldOwner("samples-test"), client.ForceOwnership)).
				To(Succeed(), "%s %s from %s", o.Obj.GetKind(), o.Obj.GetName(), o.File)
			if o.Obj.GetKind() == "CustomerLicensePlan" {
				plans[client.ObjectKeyFromObject(o.Obj)] = true
			}
		}
		Expect(len(objs)).To(BeNumerically(">", 27), "the catalog alone has 27 products")
		Expect(plans).NotTo(BeEmpty())
		for key := range plans {
			p := eventuallyReady(key.Namespace, key.Name)
			Expect(p.Status.Usage.Assigned).To(BeNumerically("<=", p.Status.Licenses), key.String())
			for _, o := range ordersOf(key.Namespace, key.Name) {
				Expect(o.Status.State).To(Equal(v1alpha1.OrderFulfilled), "%s: %s", o.Name, o.Status.Message)
			}
		}
		By("the sample customer on a trial holds it, charged nothing, until it expires")
		Expect(plans).To(HaveKey(client.ObjectKey{Namespace: "hooli", Name: "connect-google"}))
		trial := getPlan("hooli", "connect-google")(Default)
		Expect(trial.Status.PaymentPlan).To(Equal(v1alpha1.Trial))
		Expect(trial.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionExpire))
		Expect(trial.Status.Billing.TotalBilled).To(Equal(v1alpha1.Amount("0.00")))
		Expect(describe(&ordersOf("hooli", "connect-google")[0])).To(Equal("connect-google-1 Trial Fulfilled/"))
	})
})
