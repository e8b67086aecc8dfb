package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/partnerops/license-operator/internal/licensing"
)

func (a *app) previewCommand() *cobra.Command {
	var files []string
	var recursive, markdown bool
	cmd := &cobra.Command{
		Use:   "preview -f FILE|DIR",
		Short: "What applying plan manifests would order and cost, as a table or a Markdown pull-request comment",
		Long: `Send each CustomerLicensePlan of the manifests to the API server as a server-side dry run (apply,
field manager kubectl-license): nothing changes. license-operator's admission webhooks answer
with the plan as it would be stored, which carries, as data, the orders each change would place
and their charges, computed as the real orders' will be (the annotation
licensing.partnerops.io/preview; the warnings say the same in words, for people). preview turns
them into a table, with the total per currency, and shows a refused change as such. Other kinds
in the manifests are skipped.

--markdown prints a Markdown table, for a pull-request comment. preview exits with 1 when a
change is refused or an order would be rejected.`,
		Example: `  kubectl license preview -f plans/acme.yaml
  kubectl license preview -f plans/ -R --markdown > preview.md`,
		Args: cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringSliceVarP(&files, "filename", "f", nil, "a manifest file, a directory of them, or - for stdin (repeatable)")
	fl.BoolVarP(&recursive, "recursive", "R", false, "read the subdirectories of the directories too")
	fl.BoolVar(&markdown, "markdown", false, "print a Markdown table, for a pull-request comment")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		return a.runPreview(cmd.Context(), files, recursive, markdown)
	}
	return cmd
}

// planPreview is the outcome of one plan's dry run.
type planPreview struct {
	namespace, name, file string
	// warnings are license-operator's, as they came: for people (the Markdown comment), never read.
	warnings []string
	// data is the preview the dry run's plan carries (readAnswer).
	data    *licensing.PlanPreview
	refused string // the API server's refusal
	// unjudged is true when the operator's webhooks did not see the plan: no preview was made.
	unjudged bool
	// unread says why the answer of the webhooks carried no preview that can be read.
	unread string
}

func (p *planPreview) key() string { return p.namespace + "/" + p.name }

// failed reports whether the change was refused, or its first order would be rejected.
func (p *planPreview) failed() bool {
	return p.refused != "" || p.orders() != nil && p.orders().Rejected != nil
}

// warningCollector keeps the admission warnings of a request.
type warningCollector struct {
	mu    sync.Mutex
	lines []string
}

func (w *warningCollector) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, text)
}

func (w *warningCollector) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.lines
	w.lines = nil
	return out
}

func (a *app) runPreview(ctx context.Context, files []string, recursive, markdown bool) error {
	plans, err := readPlans(files, recursive, a.In, a.ErrOut)
	if err != nil {
		return err
	}
	ns, err := a.namespace()
	if err != nil {
		return err
	}
	warnings := &warningCollector{}
	c, err := a.client(warnings)
	if err != nil {
		return err
	}
	var previews []*planPreview
	for _, m := range plans {
		p, err := a.previewPlan(ctx, c, warnings, m, ns)
		if err != nil {
			return err
		}
		previews = append(previews, p)
	}
	if markdown {
		err = writePreviewMarkdown(a.Out, previews)
	} else {
		err = writePreviewTable(a.Out, previews, a.coloured(a.Out))
	}
	if err != nil {
		return err
	}
	failed, unjudged, unread := 0, 0, 0
	for _, p := range previews {
		switch {
		case p.failed():
			failed++
		case p.unjudged:
			unjudged++
		case p.unread != "":
			unread++
		}
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %s would be refused or rejected", failed, plural(len(previews), "plan", "plans"))
	case unjudged > 0:
		return fmt.Errorf("%d of %s not previewed: license-operator's admission webhooks did not answer", unjudged, plural(len(previews), "plan was", "plans were"))
	case unread > 0:
		return fmt.Errorf("%d of %s not previewed: license-operator's answer carried no preview that can be read", unread, plural(len(previews), "plan was", "plans were"))
	}
	return nil
}

// previewPlan dry-runs the plan of m as a server-side apply and reads the preview of the plan it
// answers with (readAnswer). A refusal of the API server is part of the preview; only an error
// that says nothing about the plan (no permission, no connection) is returned.
func (a *app) previewPlan(ctx context.Context, c client.Client, warnings *warningCollector, m manifest, defaultNamespace string) (*planPreview, error) {
	u := m.obj.DeepCopy()
	if u.GetNamespace() == "" {
		u.SetNamespace(defaultNamespace)
	}
	// What the server sets is no part of what is applied.
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp"} {
		unstructuredDelete(u.Object, "metadata", f)
	}
	delete(u.Object, "status")
	p := &planPreview{namespace: u.GetNamespace(), name: u.GetName(), file: m.file}
	warnings.take()
	err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.DryRunAll, client.FieldOwner(fieldManager), client.ForceOwnership)
	for _, w := range warnings.take() {
		if strings.HasPrefix(w, warningPrefix) {
			p.warnings = append(p.warnings, w)
		} else {
			fmt.Fprintf(a.ErrOut, "Warning: %s: %s\n", p.key(), w)
		}
	}
	if err != nil {
		// The API server's answer about this plan is its preview; no answer, or a refusal to
		// let the user try at all, ends the preview.
		var status apierrors.APIStatus
		if explained := explain(err); !errors.As(err, &status) || explained.Error() != err.Error() {
			return nil, fmt.Errorf("preview %s: %w", p.key(), explained)
		}
		p.refused = err.Error()
		return p, nil
	}
	p.readAnswer(u.GetAnnotations())
	return p, nil
}

func unstructuredDelete(obj map[string]any, parent, field string) {
	if m, ok := obj[parent].(map[string]any); ok {
		delete(m, field)
	}
}

// previewRow is a row of the preview table.
type previewRow struct {
	plan, change, quantity, product, paymentPlan, effective, charge string
	bad                                                             bool
}

// previewRows are the rows of the table: an order or a run of alike orders per row, and a row
// for a plan that orders nothing or is refused.
func previewRows(p *planPreview) []previewRow {
	key := p.key()
	switch {
	case p.refused != "":
		return []previewRow{{plan: key, change: "refused", bad: true}}
	case p.unjudged || p.unread != "":
		return []previewRow{{plan: key, change: "not previewed"}}
	}
	data := p.orders()
	if data == nil {
		return []previewRow{{plan: key, change: "no order"}}
	}
	var rows []previewRow
	for i, r := range data.Runs() {
		rows = append(rows, runRow(key, data, i, r))
	}
	return rows
}

// previewNotes are what a person should read about each plan: refusals, a preview not made, and
// the preview's notes (rejections, approvals, requirements, a start date in the past...).
func previewNotes(previews []*planPreview) []string {
	var notes []string
	for _, p := range previews {
		add := func(s string) { notes = append(notes, p.key()+": "+s) }
		switch {
		case p.refused != "":
			add("refused: " + p.refused)
		case p.unjudged:
			add("license-operator's admission webhooks did not answer, so nothing was previewed: is the operator deployed with its webhooks (make deploy)?")
		case p.unread != "":
			add(p.unread)
		}
		if data := p.orders(); data != nil {
			for _, n := range data.Notes() {
				add(n)
			}
		}
	}
	return notes
}

// previewTotals are the charges of every previewed order per currency, in cents, and whether
// every charge was known.
func previewTotals(previews []*planPreview) (map[string]licensing.Money, bool) {
	totals := map[string]licensing.Money{}
	complete := true
	for _, p := range previews {
		t, ok := planTotals(p.orders())
		complete = complete && ok
		for cur, m := range t {
			total := totals[cur]
			if addTo(&total, m) != nil {
				complete = false // beyond the largest amount: not a total that can be stated
				continue
			}
			totals[cur] = total
		}
	}
	return totals, complete
}

// totalText is "1260.00 EUR", or "1260.00 EUR + 50.00 USD", or "0.00" with nothing to pay.
func totalText(totals map[string]licensing.Money, complete bool) string {
	curs := make([]string, 0, len(totals))
	for cur := range totals {
		curs = append(curs, cur)
	}
	sort.Strings(curs)
	parts := make([]string, len(curs))
	for i, cur := range curs {
		parts[i] = amount{totals[cur], cur}.String()
	}
	s := strings.Join(parts, " + ")
	if s == "" {
		s = "0.00"
	}
	if !complete {
		s += " (and charges that cannot be computed)"
	}
	return s
}

var previewHeader = []string{"PLAN", "CHANGE", "QUANTITY", "PRODUCT", "PAYMENT PLAN", "EFFECTIVE", "CHARGE"}

func writePreviewTable(w io.Writer, previews []*planPreview, coloured bool) error {
	t := &table{header: previewHeader}
	for _, p := range previews {
		for _, r := range previewRows(p) {
			col := plain
			if r.bad {
				col = red
			}
			t.add(c(r.plan), cell{text: r.change, colour: col}, c(r.quantity), c(r.product), c(r.paymentPlan), c(r.effective), cell{text: r.charge, colour: col})
		}
	}
	if err := t.write(w, coloured); err != nil {
		return err
	}
	totals, complete := previewTotals(previews)
	fmt.Fprintf(w, "\nTotal: %s\n", totalText(totals, complete))
	if notes := previewNotes(previews); len(notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
	return nil
}

// mdCell escapes text for a cell of a Markdown table.
func mdCell(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

func writePreviewMarkdown(w io.Writer, previews []*planPreview) error {
	var b strings.Builder
	b.WriteString("#### License changes (kubectl license preview)\n\n")
	b.WriteString("| Plan | Change | Quantity | Product | Payment plan | Effective | Charge |\n")
	b.WriteString("|---|---|---:|---|---|---|---:|\n")
	for _, p := range previews {
		for _, r := range previewRows(p) {
			change := mdCell(r.change)
			if r.bad {
				change = "**" + change + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s |\n", mdCell(r.plan), change, mdCell(r.quantity), mdCell(r.product),
				mdCell(r.paymentPlan), mdCell(r.effective), mdCell(r.charge))
		}
	}
	totals, complete := previewTotals(previews)
	fmt.Fprintf(&b, "| **Total** | | | | | | **%s** |\n", mdCell(totalText(totals, complete)))
	if notes := previewNotes(previews); len(notes) > 0 {
		b.WriteString("\n")
		for _, n := range notes {
			key, text, _ := strings.Cut(n, ": ")
			fmt.Fprintf(&b, "- **%s**: %s\n", mdCell(key), mdCell(text))
		}
	}
	var said []string
	for _, p := range previews {
		for _, l := range p.warnings {
			said = append(said, p.key()+": "+l)
		}
	}
	if len(said) > 0 {
		b.WriteString("\n<details><summary>What license-operator answered</summary>\n\n```\n")
		b.WriteString(strings.ReplaceAll(strings.Join(said, "\n"), "```", "'''"))
		b.WriteString("\n```\n\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
