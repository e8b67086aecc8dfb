package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/xuri/excelize/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// The commands against one customer's namespace, in the order a partner would use them: plans are
// ordered (eul automatically, endpoints waiting for approval), approved and denied, then the
// history, a plan's status, a preview, the month's statement and the renewal action.
var _ = Describe("kubectl license", Ordered, func() {
	var ns string

	BeforeAll(func() {
		ns = newNamespace()
		alice := as("alice")
		// 10 x 10.00 EUR: approved automatically. 5 x 120.00 EUR = 600.00 EUR is above the
		// profile's manualAbove (500.00): it waits for a person.
		Expect(alice.Create(ctx, plan(ns, "eul", "t-eul", 10, "", `PO-1, "rush"`))).To(Succeed())
		Expect(alice.Create(ctx, plan(ns, "endpoints", "t-endpoint-plus", 5, "rnd", "EP-7"))).To(Succeed())
		Eventually(orderState(ns, "eul-1")).Should(Equal(v1alpha1.OrderFulfilled))
		Eventually(orderState(ns, "endpoints-1")).Should(Equal(v1alpha1.OrderAwaitingApproval))
	})

	It("shows the License Plans table, without colour when piped", func() {
		Eventually(func(g Gomega) {
			r := kubectlLicense("plans", "-n", ns)
			g.Expect(r.code).To(Equal(0), r.stderr)
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			g.Expect(lines).To(HaveLen(3))
			g.Expect(strings.Fields(lines[0])).To(Equal([]string{"NAME", "PLAN", "TYPE", "LICENSES", "USED", "PRICE", "PAYMENT", "START", "RENEWS/EXPIRES", "COST", "CENTER", "REFERENCE", "ACTION"}))
			g.Expect(strings.Fields(lines[1])).To(Equal([]string{"endpoints", "t-endpoint-plus", "0", "0", "Monthly", "rnd", "EP-7", "AwaitingApproval"}))
			g.Expect(strings.Fields(lines[2])).To(Equal([]string{"eul", "t-eul", "10", "0", "10.00", "EUR", "Monthly", "2026-03-10", "2026-04-10", "sales-emea", "PO-1,", `"rush"`, "Renew"}))
			g.Expect(r.stdout).NotTo(ContainSubstring("\x1b["))
		}).Should(Succeed())

		r := kubectlLicense("plans", "-A", "-o", "csv")
		Expect(r.code).To(Equal(0), r.stderr)
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		Expect(err).NotTo(HaveOccurred())
		Expect(recs[0][:4]).To(Equal([]string{"Namespace", "Plan", "Customer", "Plan type"}))
		Expect(recs).To(ContainElement(ContainElements(ns, "eul", "Acme Corporation", "t-eul", "10.00", "Renew", `PO-1, "rush"`)))

		r = kubectlLicense("plans", "-n", ns, "-o", "json")
		var list struct {
			Kind  string                         `json:"kind"`
			Items []v1alpha1.CustomerLicensePlan `json:"items"`
		}
		Expect(json.Unmarshal([]byte(r.stdout), &list)).To(Succeed())
		Expect(list.Kind).To(Equal("List"))
		Expect(list.Items).To(HaveLen(2))
		Expect(list.Items[0].Kind).To(Equal("CustomerLicensePlan"))
	})

	It("approves an order, and refuses what cannot be approved with the reason", func() {
		r := kubectlLicense("approve", "-n", ns, "eul-1", "--as", "bob")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(HavePrefix(fmt.Sprintf(`error: order "eul-1" in namespace %q is Fulfilled, not AwaitingApproval: there is nothing to approve`, ns)))

		r = kubectlLicense("approve", "-n", ns, "nope", "--as", "bob")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: order \"nope\" not found in namespace %q\n", ns)))

		// No permission to patch an order's status: the missing verb, and how to check it.
		r = kubectlLicense("approve", "-n", ns, "endpoints-1", "--as", "alice")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: you may not patch licenseorders/status in namespace %s (kubectl auth can-i patch licenseorders --subresource=status -n %s)\n", ns, ns)))

		// The webhook's refusal, as the API server gives it, without a stack trace.
		r = kubectlLicense("approve", "-n", ns, "endpoints-1", "--as", "mallory")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(HavePrefix("error: admission webhook"))
		Expect(r.stderr).To(ContainSubstring(`user "mallory" may not approve orders in namespace ` + ns))
		Expect(strings.Count(r.stderr, "\n")).To(Equal(1))
		Expect(orderState(ns, "endpoints-1")()).To(Equal(v1alpha1.OrderAwaitingApproval))

		r = kubectlLicense("approve", "-n", ns, "endpoints-1", "--as", "bob", "--message", "PO 4711 signed")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(Equal(fmt.Sprintf("order %s/endpoints-1 approved (New of 5 x t-endpoint-plus, 600.00 EUR): approved by bob: PO 4711 signed\n", ns)))
		Eventually(orderState(ns, "endpoints-1")).Should(Equal(v1alpha1.OrderFulfilled))
	})

	It("denies an order, with a message only", func() {
		// 70 more licenses for the whole term: 700.00 EUR, above 500.00.
		p := &v1alpha1.CustomerLicensePlan{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, p)).To(Succeed())
		p.Spec.Quantity = 80
		Expect(as("alice").Update(ctx, p)).To(Succeed())
		Eventually(orderState(ns, "eul-2")).Should(Equal(v1alpha1.OrderAwaitingApproval))

		r := kubectlLicense("deny", "-n", ns, "eul-2", "--as", "bob")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal("error: deny needs --message: say why the order is denied, for the order's record\n"))

		r = kubectlLicense("deny", "-n", ns, "eul-2", "--as", "bob", "-m", "over budget")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(ContainSubstring("denied (IncreaseQuantity of 80 x t-eul, 700.00 EUR): denied by bob: over budget"))
		Eventually(orderState(ns, "eul-2")).Should(Equal(v1alpha1.OrderRejected))

		r = kubectlLicense("approve", "-n", ns, "eul-2", "--as", "bob")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("is Rejected, not AwaitingApproval"))
	})

	It("shows the Order History, searched, as a table, CSV, XLSX and JSON", func() {
		r := kubectlLicense("history", "-n", ns)
		Expect(r.code).To(Equal(0), r.stderr)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		Expect(lines).To(HaveLen(4))
		Expect(strings.Fields(lines[0])).To(Equal([]string{"DATE", "(UTC)", "ORDER", "USER", "SKU", "PRODUCT", "PAYMENT", "REFERENCE", "CHANGE", "NEW", "QTY", "STATE", "CHARGE"}))
		Expect(lines[1]).To(MatchRegexp(`^20\d\d-\d\d-\d\d \d\d:\d\d:\d\d   endpoints-1   alice   T-EP-PLUS   t-endpoint-plus   Monthly   EP-7 +New +5 +Fulfilled +600.00 EUR$`))
		Expect(lines[2]).To(ContainSubstring("eul-1 "))
		Expect(lines[3]).To(MatchRegexp(`eul-2 .* IncreaseQuantity +80 +Rejected +700.00 EUR \(not charged\)$`))

		for args, want := range map[string][]string{
			"--user alice --change new":             {"endpoints-1", "eul-1"},
			"--state rejected":                      {"eul-2"},
			"--plan eul":                            {"eul-1", "eul-2"},
			"--sku T-EP-PLUS":                       {"endpoints-1"},
			"--product t-eul --customer acme":       {"eul-1", "eul-2"},
			"--since 2000-01-01 --until 2999-12-31": {"endpoints-1", "eul-1", "eul-2"},
		} {
			r := kubectlLicense(append([]string{"history", "-n", ns, "-o", "csv"}, strings.Fields(args)...)...)
			Expect(r.code).To(Equal(0), r.stderr)
			recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
			Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, rec := range recs[1:] {
				names = append(names, rec[12])
			}
			Expect(names).To(ConsistOf(want), args)
		}

		r = kubectlLicense("history", "-n", ns, "--since", "2999-01-01")
		Expect(r.code).To(Equal(0))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(Equal(fmt.Sprintf("No orders found in namespace %s.\n", ns)))

		r = kubectlLicense("history", "-n", ns, "--plan", "eul", "-o", "csv")
		Expect(r.stdout).To(HavePrefix("Date/Time (UTC),User,SKU,Product,Payment plan,Reference,Change,New qty,State,Charge,Currency,"))
		Expect(r.stdout).To(ContainSubstring(`,alice,T-EUL,t-eul,Monthly,"PO-1, ""rush""",New,10,Fulfilled,100.00,EUR,` + ns + ",eul-1,eul,Acme Corporation,sales-emea,0,2026-03-10,2026-03-10 09:30:00,\r\n"))

		// XLSX: to a file, or to stdout when it is not a terminal.
		file := filepath.Join(GinkgoT().TempDir(), "orders.xlsx")
		r = kubectlLicense("history", "-n", ns, "-o", "xlsx", "--output-file", file)
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stderr).To(Equal("wrote 3 orders to " + file + "\n"))
		f, err := excelize.OpenFile(file)
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		rows, err := f.GetRows("Order History")
		Expect(err).NotTo(HaveOccurred())
		Expect(rows).To(HaveLen(4))
		Expect(rows[1][12]).To(Equal("endpoints-1"))
		charge, err := f.GetCellValue("Order History", "J2", excelize.Options{RawCellValue: true})
		Expect(err).NotTo(HaveOccurred())
		Expect(charge).To(Equal("600"))

		r = kubectlLicense("history", "-n", ns, "-o", "xlsx")
		Expect(r.code).To(Equal(0), r.stderr)
		_, err = excelize.OpenReader(bytes.NewReader([]byte(r.stdout)))
		Expect(err).NotTo(HaveOccurred())

		r = kubectlLicense("history", "-n", ns, "-o", "json", "--state", "Rejected")
		var list struct{ Items []v1alpha1.LicenseOrder }
		Expect(json.Unmarshal([]byte(r.stdout), &list)).To(Succeed())
		Expect(list.Items).To(HaveLen(1))
		Expect(list.Items[0].Status.Reason).To(Equal(v1alpha1.ReasonDenied))
	})

	It("tells a person without a role which permission is missing", func() {
		r := kubectlLicense("history", "-n", ns, "--as", "eve")
		Expect(r.code).To(Equal(1))
		Expect(r.stdout).To(BeEmpty())
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: you may not list licenseorders in namespace %s (kubectl auth can-i list licenseorders -n %s)\n", ns, ns)))

		r = kubectlLicense("plans", "-A", "--as", "eve")
		Expect(r.stderr).To(Equal("error: you may not list customerlicenseplans in all namespaces (kubectl auth can-i list customerlicenseplans -A)\n"))
	})

	It("shows a plan's status on one screen", func() {
		r := kubectlLicense("status", "-n", ns, "eul")
		Expect(r.code).To(Equal(0), r.stderr)
		for _, want := range []string{
			"Name:        eul\n",
			"Customer:    Acme Corporation\n",
			"Changed by:  alice\n",
			"  Licenses            80              10\n",
			"  Price per license                   10.00 EUR\n",
			"Term:        2026-03-10 to 2026-04-10\n",
			"Renewal:     renews on 2026-04-10 (policy AutoRenew, renewal order placed 168h before)\n",
			"Pending:     none\n",
			"  Recurring charge   100.00 EUR per month\n",
			"  Total billed       100.00 EUR\n",
			"Usage:       0 of 10 licenses assigned",
			"Orders:      2 orders\n",
			"Notices:     none told of these orders\n", // no NotificationSink
			"OrderRejected",
			"order/eul-2",
		} {
			Expect(r.stdout).To(ContainSubstring(want))
		}
		// Most recent first.
		Expect(strings.Index(r.stdout, "  eul-2 ")).To(BeNumerically("<", strings.Index(r.stdout, "  eul-1 ")))

		r = kubectlLicense("status", "-n", ns, "nope")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: plan \"nope\" not found in namespace %q\n", ns)))
		r = kubectlLicense("status", "-n", ns)
		Expect(r.stderr).To(Equal("error: kubectl license status needs one PLAN, got 0 arguments (see kubectl license status --help)\n"))
	})

	It("previews plan manifests as a server-side dry run, with refusals and totals", func() {
		dir := GinkgoT().TempDir()
		write := func(name, content string) string {
			path := filepath.Join(dir, name)
			Expect(os.WriteFile(path, []byte(content), 0o644)).To(Succeed())
			return path
		}
		manifest := func(name, product string, quantity int, extra string) string {
			return fmt.Sprintf("apiVersion: licensing.partnerops.io/v1alpha1\nkind: CustomerLicensePlan\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n  customer: Acme Corporation\n  product: %s\n  quantity: %d\n  paymentPlan: Monthly\n%s",
				name, ns, product, quantity, extra)
		}
		write("plans.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: not-a-plan\n---\n"+
			manifest("eul", "t-eul", 13, "  purchaseReference: 'PO-1, \"rush\"'\n")+"---\n"+
			manifest("old", "t-eul", 9, "  startDate: \"2025-01-15\"\n"))
		write("bad.yaml", manifest("bad", "t-eul", 3, "  paymentPlan: Prepay5Y\n"))
		nothing := write("other.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\n")
		write("README.md", "not read: not a manifest's extension")

		r := kubectlLicense("preview", "-f", dir)
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("note: skipping ConfigMap (1) in " + filepath.Join(dir, "plans.yaml") + ": not CustomerLicensePlans\n"))
		Expect(r.stderr).To(HaveSuffix("error: 1 of 3 plans would be refused or rejected\n"))
		lines := strings.Split(r.stdout, "\n")
		Expect(strings.Fields(lines[0])).To(Equal([]string{"PLAN", "CHANGE", "QUANTITY", "PRODUCT", "PAYMENT", "PLAN", "EFFECTIVE", "CHARGE"}))
		Expect(strings.Fields(lines[1])).To(Equal([]string{ns + "/bad", "refused"}))
		// eul: 10 in force, 80 wanted and denied; the manifest asks for 13: 3 more for the whole term.
		Expect(strings.Fields(lines[2])).To(Equal([]string{ns + "/eul", "IncreaseQuantity", "13", "t-eul", "Monthly", "2026-03-10", "30.00", "EUR"}))
		Expect(strings.Fields(lines[3])).To(Equal([]string{ns + "/old", "New", "9", "t-eul", "Monthly", "2026-03-10", "90.00", "EUR"}))
		Expect(strings.Fields(lines[4])).To(Equal([]string{ns + "/old", "13", "x", "Renewal", "9", "t-eul", "Monthly", "2025-02-15", "to", "2026-02-15", "1170.00", "EUR", "(90.00", "EUR", "each)"}))
		Expect(r.stdout).To(ContainSubstring("\nTotal: 1290.00 EUR\n"))
		Expect(r.stdout).To(ContainSubstring(ns + `/bad: refused: admission webhook "vcustomerlicenseplan.licensing.partnerops.io" denied the request: `))
		Expect(r.stdout).To(ContainSubstring("PaymentPlanNotOffered"))
		Expect(r.stdout).To(ContainSubstring(ns + "/old: start date: spec.startDate 2025-01-15 is more than one term in the past"))

		// A dry run changes nothing.
		err := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "old"}, &v1alpha1.CustomerLicensePlan{})
		Expect(apierrors.IsNotFound(err)).To(BeTrue())
		p := &v1alpha1.CustomerLicensePlan{}
		Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, p)).To(Succeed())
		Expect(p.Spec.Quantity).To(Equal(int32(80)))

		r = kubectlLicense("preview", "-f", filepath.Join(dir, "plans.yaml"), "--markdown")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(ContainSubstring("| Plan | Change | Quantity | Product | Payment plan | Effective | Charge |\n|---|---|---:|---|---|---|---:|\n"))
		Expect(r.stdout).To(ContainSubstring("| " + ns + "/eul | IncreaseQuantity | 13 | t-eul | Monthly | 2026-03-10 | 30.00 EUR |\n"))
		Expect(r.stdout).To(ContainSubstring("| **Total** | | | | | | **1290.00 EUR** |\n"))

		r = kubectlLicense("preview", "-f", nothing)
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(ContainSubstring("error: " + nothing + " holds no CustomerLicensePlan"))
	})

	It("totals the month's billing data per cost center and reference", func() {
		r := kubectlLicense("statement", "-n", ns, "--period", "2026-03")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(HavePrefix("Statement 2026-03: orders fulfilled from 2026-03-01 to 2026-03-31 (UTC) in namespace " + ns + ", by cost center\n\n"))
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")[2:]
		Expect(strings.Fields(lines[0])).To(Equal([]string{"COST", "CENTER", "ORDERS", "TOTAL", "REFERENCES", "CUSTOMERS"}))
		Expect(strings.Fields(lines[1])).To(Equal([]string{"rnd", "1", "600.00", "EUR", "EP-7", "Acme", "Corporation"}))
		Expect(strings.Fields(lines[2])).To(Equal([]string{"sales-emea", "1", "100.00", "EUR", "PO-1,", `"rush"`, "Acme", "Corporation"}))
		Expect(strings.Fields(lines[3])).To(Equal([]string{"TOTAL", "2", "700.00", "EUR"}))

		r = kubectlLicense("statement", "-n", ns, "--period", "2026-03", "--by", "reference", "-o", "csv")
		Expect(r.stdout).To(Equal("Reference,Currency,Orders,Total,Cost centers,Customers\r\n" +
			"EP-7,EUR,1,600.00,rnd,Acme Corporation\r\n" +
			"\"PO-1, \"\"rush\"\"\",EUR,1,100.00,sales-emea,Acme Corporation\r\n" +
			"Total,EUR,2,700.00,,\r\n"))

		r = kubectlLicense("statement", "-n", ns, "--period", "2026-04")
		Expect(r.stdout).To(HaveSuffix("\nNo charges.\n"))

		r = kubectlLicense("statement", "-n", ns, "--period", "2026-13")
		Expect(r.code).To(Equal(1))
		Expect(r.stderr).To(Equal("error: --period 2026-13: want YYYY-MM\n"))
	})

	It("sets the renewal action", func() {
		r := kubectlLicense("renewal", "-n", ns, "eul", "--expire-at-term-end", "--as", "alice")
		Expect(r.code).To(Equal(0), r.stderr)
		Expect(r.stdout).To(Equal(fmt.Sprintf("plan %s/eul: renewal policy set to ExpireAtTermEnd (the plan expires on 2026-04-10)\n", ns)))
		Eventually(func(g Gomega) {
			p := &v1alpha1.CustomerLicensePlan{}
			g.Expect(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "eul"}, p)).To(Succeed())
			g.Expect(p.Spec.Renewal.Policy).To(Equal(v1alpha1.ExpireAtTermEnd))
			g.Expect(p.Status.RenewalAction).To(Equal(v1alpha1.RenewalActionExpire))
		}).Should(Succeed())
		Expect(kubectlLicense("plans", "-n", ns).stdout).To(MatchRegexp(`eul .* 2026-04-10 .* Expire`))

		r = kubectlLicense("renewal", "-n", ns, "eul", "--auto", "--as", "alice")
		Expect(r.stdout).To(ContainSubstring("renewal policy set to AutoRenew"))

		r = kubectlLicense("renewal", "-n", ns, "eul")
		Expect(r.stderr).To(Equal("error: renewal needs --auto or --expire-at-term-end\n"))
		r = kubectlLicense("renewal", "-n", ns, "eul", "--auto", "--expire-at-term-end")
		Expect(r.stderr).To(Equal("error: renewal takes one of --auto and --expire-at-term-end, not both\n"))
		r = kubectlLicense("renewal", "-n", ns, "nope", "--auto")
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: plan \"nope\" not found in namespace %q\n", ns)))
		r = kubectlLicense("renewal", "-n", ns, "eul", "--auto", "--as", "eve")
		Expect(r.stderr).To(Equal(fmt.Sprintf("error: you may not get customerlicenseplans in namespace %s (kubectl auth can-i get customerlicenseplans -n %s)\n", ns, ns)))
	})
})

// A plan deleted and declared again under its name is another plan: its status shows its own
// orders, while the history keeps both.
var _ = It("shows a plan declared again with its own orders, and the history with both", func() {
	ns := newNamespace()
	alice := as("alice")
	Expect(alice.Create(ctx, plan(ns, "again", "t-eul", 2, "", "PO-1"))).To(Succeed())
	Eventually(orderState(ns, "again-1")).Should(Equal(v1alpha1.OrderFulfilled))
	Expect(alice.Delete(ctx, plan(ns, "again", "t-eul", 2, "", "PO-1"))).To(Succeed())
	Eventually(func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: "again"}, &v1alpha1.CustomerLicensePlan{}))
	}).Should(BeTrue())
	Expect(alice.Create(ctx, plan(ns, "again", "t-eul", 3, "", "PO-2"))).To(Succeed())
	Eventually(orderState(ns, "again-3")).Should(Equal(v1alpha1.OrderFulfilled))

	r := kubectlLicense("status", "-n", ns, "again")
	Expect(r.code).To(Equal(0), r.stderr)
	Expect(r.stdout).To(ContainSubstring("Orders:      1 order\n"))
	Expect(r.stdout).To(ContainSubstring("  again-3 "))
	Expect(r.stdout).NotTo(ContainSubstring("again-1"))

	r = kubectlLicense("history", "-n", ns, "--plan", "again")
	Expect(r.code).To(Equal(0), r.stderr)
	Expect(r.stdout).To(And(ContainSubstring("again-1"), ContainSubstring("again-2"), ContainSubstring("again-3")))
})
