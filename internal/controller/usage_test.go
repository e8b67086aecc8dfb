package controller

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

var _ = Describe("A plan's usage", func() {
	It("counts a burst of assignments in one status write", func() {
		testCatalog()
		ns := newNamespace()
		Expect(k8sClient.Create(ctx, plan(ns, "eul", "t-eul", 10, v1alpha1.Monthly))).To(Succeed())
		eventuallyReady(ns, "eul")

		wc, err := client.NewWithWatch(cfg, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		w, err := wc.Watch(ctx, &v1alpha1.CustomerLicensePlanList{}, client.InNamespace(ns),
			client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("metadata.name", "eul")})
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		for i := range 5 {
			Expect(k8sClient.Create(ctx, assignment(ns, fmt.Sprintf("a%d", i), "eul"))).To(Succeed())
		}
		Eventually(getPlan(ns, "eul")).Should(WithTransform(func(p *v1alpha1.CustomerLicensePlan) int32 { return p.Status.Usage.Assigned }, Equal(int32(5))))
		// Whatever else comes within the settling time after the count is written.
		writes := 0
		deadline := time.After(2 * usageSettle)
		for done := false; !done; {
			select {
			case e := <-w.ResultChan():
				if e.Type == watch.Modified {
					writes++
				}
			case <-deadline:
				done = true
			}
		}
		Expect(writes).To(Equal(1), "plan status writes for 5 assignments created at once")
	})
})
