package main

import (
	"encoding/csv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

var _ = Describe("kubectl license history of trials, exported safe to open", func() {
	It("searches every change kind, Trial and Conversion too, and writes formulas as text", func() {
		p := product("t-guard-trial", "T-GUARD", "Connect", "Monthly", "10.00")
		p.Spec.Trial = &v1alpha1.TrialOffer{Days: 30, MaxLicenses: 10}
		if err := k8sClient.Create(ctx, p); err != nil && !apierrors.IsAlreadyExists(err) {
			Expect(err).NotTo(HaveOccurred())
		}
		ns := newNamespace()
		trial := plan(ns, "connect", "t-guard-trial", 3, "", `=HYPERLINK("http://x.example","PO")`)
		trial.Spec.PaymentPlan = v1alpha1.Trial
		Expect(as("alice").Create(ctx, trial)).To(Succeed())
		Eventually(orderState(ns, "connect-1")).Should(Equal(v1alpha1.OrderFulfilled))

		for _, change := range v1alpha1.OrderChanges {
			r := kubectlLicense("history", "-n", ns, "--change", strings.ToLower(string(change)), "-o", "csv")
			Expect(r.code).To(Equal(0), "--change %s: %s", change, r.stderr)
		}
		r := kubectlLicense("history", "-n", ns, "--change", "Trial", "-o", "csv")
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(recs).To(HaveLen(2))
		Expect(recs[1][12]).To(Equal("connect-1"))
		Expect(recs[1][5]).To(Equal(`'=HYPERLINK("http://x.example","PO")`), "the reference is text a spreadsheet shows, and never runs")
		r = kubectlLicense("history", "-n", ns, "--change", "Conversion")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(BeEmpty())
	})
})
