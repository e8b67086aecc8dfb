package main

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
	"github.com/partnerops/license-operator/internal/plugin"
	"github.com/partnerops/license-operator/internal/testenv"
)

// listCounter counts the list requests of LicenseOrders and the limits they asked for.
type listCounter struct {
	next   http.RoundTripper
	lists  atomic.Int32
	mu     sync.Mutex
	limits []string
}

func (l *listCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/licenseorders") {
		l.lists.Add(1)
		l.mu.Lock()
		l.limits = append(l.limits, req.URL.Query().Get("limit"))
		l.mu.Unlock()
	}
	return l.next.RoundTrip(req)
}

// A long history is read page by page. Only the operator may create orders when the webhooks
// run, so this runs on a control plane of its own, without webhooks or operator, where the test
// creates 520 orders directly.
var _ = Describe("history of more than 500 orders", Ordered, func() {
	const orders = 520
	var kubeconfigB, ns string

	BeforeAll(func() {
		env := testenv.Environment(root, false)
		cfgB, err := env.Start()
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(env.Stop)
		kubeconfigB = writeKubeconfig(env, "admin")
		c, err := client.New(cfgB, client.Options{Scheme: scheme})
		Expect(err).NotTo(HaveOccurred())
		namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "big-"}}
		Expect(c.Create(ctx, namespace)).To(Succeed())
		ns = namespace.Name

		work := make(chan int)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := range work {
					plan := fmt.Sprintf("plan-%d", i%7)
					Expect(c.Create(ctx, &v1alpha1.LicenseOrder{
						ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("%s-%d", plan, i+1), Labels: map[string]string{v1alpha1.PlanLabel: plan}},
						Spec: v1alpha1.LicenseOrderSpec{Plan: plan, Revision: int64(i + 1), Change: v1alpha1.ChangeRenewal, Product: "t-eul", SKU: "T-EUL",
							PaymentPlan: v1alpha1.Monthly, Quantity: 5, EffectiveDate: "2026-03-10", RequestedBy: v1alpha1.SystemUser},
					})).To(Succeed())
				}
			})
		}
		for i := range orders {
			work <- i
		}
		close(work)
		wg.Wait()
	})

	It("lists 250 at a time and sorts by date, then order name", func() {
		counter := &listCounter{}
		wrap := func(c *rest.Config) *rest.Config {
			c.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
			return c
		}
		start := time.Now()
		r := runPlugin(plugin.Options{WrapConfig: wrap}, kubeconfigB, "history", "-n", ns, "-o", "csv")
		Expect(r.code).To(Equal(0), r.stderr)
		GinkgoWriter.Printf("history of %d orders in %s\n", orders, time.Since(start))

		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(recs).To(HaveLen(orders + 1))
		Expect(counter.lists.Load()).To(Equal(int32(3))) // 250 + 250 + 20
		Expect(counter.limits).To(Equal([]string{"250", "250", "250"}))

		// Sorted by the date and time placed, then by order name: plan, then revision, so that
		// plan-0-8 comes before plan-0-15.
		revision := func(rec []string) int {
			var n int
			fmt.Sscanf(strings.TrimPrefix(rec[12], rec[13]+"-"), "%d", &n)
			return n
		}
		seen := map[string]bool{}
		for i := 1; i < len(recs); i++ {
			seen[recs[i][12]] = true
			if i == 1 {
				continue
			}
			prev, cur := recs[i-1], recs[i]
			Expect(prev[0] <= cur[0]).To(BeTrue(), "%s placed %s before %s placed %s", prev[12], prev[0], cur[12], cur[0])
			if prev[0] == cur[0] {
				Expect(prev[13] <= cur[13]).To(BeTrue(), "%s before %s", prev[12], cur[12])
				if prev[13] == cur[13] {
					Expect(revision(prev)).To(BeNumerically("<", revision(cur)), "%s before %s", prev[12], cur[12])
				}
			}
		}
		Expect(seen).To(HaveLen(orders))
	})

	It("says so when no webhook answers a preview", func() {
		file := filepath.Join(GinkgoT().TempDir(), "plan.yaml")
		Expect(os.WriteFile(file, []byte("apiVersion: licensing.partnerops.io/v1alpha1\nkind: CustomerLicensePlan\nmetadata:\n  name: eul\n"+
			"spec:\n  customer: Acme\n  product: t-eul\n  quantity: 3\n  paymentPlan: Monthly\n"), 0o644)).To(Succeed())
		r := runPlugin(plugin.Options{}, kubeconfigB, "preview", "-n", ns, "-f", file)
		Expect(r.code).To(Equal(1))
		Expect(strings.Fields(strings.Split(r.stdout, "\n")[1])).To(Equal([]string{ns + "/eul", "not", "previewed"}))
		Expect(r.stdout).To(ContainSubstring("license-operator's admission webhooks did not answer, so nothing was previewed"))
		Expect(r.stderr).To(Equal("error: 1 of 1 plan was not previewed: license-operator's admission webhooks did not answer\n"))
	})
})
