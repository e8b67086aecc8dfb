package webhook

import (
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/samples"
)

// `make samples` applies config/samples in one go: with the webhooks in place, every object must be
// admitted in the order it is applied (the catalog before the plans that name its products).
var _ = Describe("The samples, through the webhooks", func() {
	It("are admitted in the order they are applied, and every plan comes into force", func() {
		// The samples are dated as the README's tour is (a plan starting 2026-11-01): a start date
		// may lie at most 31 days ahead of the day it is ordered.
		fakeClock.SetTime(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
		DeferCleanup(func() { fakeClock.SetTime(suiteStart) })
		objs, err := samples.Read(filepath.Join("..", "..", "config", "samples"))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() {
			bp := &v1alpha1.BillingProfile{ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.DefaultBillingProfileName}}
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, bp))).To(Succeed())
			Eventually(func() bool { return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(bp), bp)) }).Should(BeTrue())
		})
		var plans []client.ObjectKey
		for _, o := range objs {
			Expect(k8sClient.Apply(ctx, client.ApplyConfigurationFromUnstructured(o.Obj), client.FieldOwner("samples-test"), client.ForceOwnership)).
				To(Succeed(), "%s %s from %s", o.Obj.GetKind(), o.Obj.GetName(), o.File)
			if o.Obj.GetKind() == "CustomerLicensePlan" {
				plans = append(plans, client.ObjectKeyFromObject(o.Obj))
			}
		}
		for _, key := range plans {
			eventuallyInForce(key.Namespace, key.Name)
		}
		trial := getPlan(Default, "hooli", "connect-google")
		Expect(trial.Status.PaymentPlan).To(Equal(v1alpha1.Trial), "the sample customer on a trial")
		Expect(trial.Status.Term.Start).To(Equal(v1alpha1.Date("2026-11-23")), "the trial starts on the day it is ordered")
		Expect(trial.Status.RenewalDate).To(Equal(v1alpha1.Date("2026-12-23")))
	})
})
