package plugin

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

func TestUseColour(t *testing.T) {
	tests := []struct {
		terminal bool
		noColor  string
		want     bool
	}{
		{true, "", true},
		{true, "1", false},
		{true, "0", false}, // any value but "" turns colour off
		{false, "", false},
		{false, "1", false},
	}
	for _, tt := range tests {
		if got := useColour(tt.terminal, tt.noColor); got != tt.want {
			t.Errorf("useColour(terminal %v, NO_COLOR %q) = %v, want %v", tt.terminal, tt.noColor, got, tt.want)
		}
	}
}

func TestNoColourWhenPiped(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for name, out := range map[string]any{"a pipe": w, "a buffer": &bytes.Buffer{}} {
		a := &app{IOStreams: genericiooptions.IOStreams{Out: out.(interface{ Write([]byte) (int, error) })}, getenv: func(string) string { return "" }}
		if isTerminal(a.Out) || a.coloured(a.Out) {
			t.Errorf("output to %s is coloured", name)
		}
	}
}

func TestTableColours(t *testing.T) {
	tb := &table{header: []string{"name", "renews/expires"}}
	tb.add(c("eul"), cell{text: "2026-04-10", colour: green})
	tb.add(c("byoc-long-name"), cell{text: "2026-05-01", colour: red})

	var plain bytes.Buffer
	if err := tb.write(&plain, false); err != nil {
		t.Fatal(err)
	}
	want := "NAME             RENEWS/EXPIRES\neul              2026-04-10\nbyoc-long-name   2026-05-01\n"
	if plain.String() != want {
		t.Errorf("without colour:\n%q\nwant\n%q", plain.String(), want)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("escape codes without colour")
	}

	var coloured bytes.Buffer
	if err := tb.write(&coloured, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(coloured.String(), "eul              \x1b[32m2026-04-10\x1b[0m\n") ||
		!strings.Contains(coloured.String(), "\x1b[31m2026-05-01\x1b[0m") {
		t.Errorf("with colour: renewals green, expiries red, columns aligned as without:\n%q", coloured.String())
	}
}

func TestPlansTableColours(t *testing.T) {
	renews := v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "eul"}}
	renews.Status = v1alpha1.CustomerLicensePlanStatus{RenewalDate: "2026-04-10", RenewalAction: v1alpha1.RenewalActionRenew,
		Term:       &v1alpha1.Term{Start: "2026-03-10", End: "2026-04-10"},
		Conditions: []metav1.Condition{{Type: v1alpha1.PlanReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonInForce}}}
	expires := *renews.DeepCopy()
	expires.Name, expires.Status.RenewalAction = "byoc", v1alpha1.RenewalActionExpire
	waiting := *renews.DeepCopy()
	waiting.Name = "endpoints"
	waiting.Status.Conditions[0] = metav1.Condition{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAwaitingApproval}
	fresh := v1alpha1.CustomerLicensePlan{ObjectMeta: metav1.ObjectMeta{Name: "new"}}
	fresh.Status.RenewalAction = v1alpha1.RenewalActionNone
	fresh.Status.Conditions = []metav1.Condition{{Type: v1alpha1.PlanReady, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonAwaitingApproval}}

	tb := plansTable([]v1alpha1.CustomerLicensePlan{renews, expires, waiting, fresh}, false, march10)
	var out bytes.Buffer
	if err := tb.write(&out, true); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\x1b[32m2026-04-10\x1b[0m", "\x1b[32mRenew\x1b[0m",
		"\x1b[31m2026-04-10\x1b[0m", "\x1b[31mExpire\x1b[0m",
		"\x1b[32mRenew (AwaitingApproval)\x1b[0m",
		"   AwaitingApproval\n", // a plan not in force yet: nothing to renew, no colour
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the coloured table does not hold %q:\n%q", want, out.String())
		}
	}
	out.Reset()
	if err := tb.write(&out, false); err != nil || strings.Contains(out.String(), "\x1b") {
		t.Errorf("colour off, yet escape codes: %q (%v)", out.String(), err)
	}
}

// TestColourOnTerminalOnly follows the decision from stdout (or --output-file) to the tables:
// colour on a terminal, none with NO_COLOR, none in a file.
func TestColourOnTerminalOnly(t *testing.T) {
	tty := &bytes.Buffer{}
	defer func(was func(io.Writer) bool) { isTerminal = was }(isTerminal)
	isTerminal = func(w io.Writer) bool { return w == tty }

	for _, tt := range []struct {
		name, noColor, file string
		want                bool
	}{
		{name: "stdout is a terminal", want: true},
		{name: "NO_COLOR is set", noColor: "1"},
		{name: "--output-file", file: filepath.Join(t.TempDir(), "plans.txt")},
	} {
		a := &app{IOStreams: genericiooptions.IOStreams{Out: tty, ErrOut: &bytes.Buffer{}}, getenv: func(string) string { return tt.noColor }}
		out, err := a.openOutput(tt.file, "table")
		if err != nil {
			t.Fatal(err)
		}
		if got := a.coloured(out); got != tt.want {
			t.Errorf("%s: coloured %v, want %v", tt.name, got, tt.want)
		}
		_ = out.close(a, "")
	}

	a := &app{IOStreams: genericiooptions.IOStreams{Out: tty}, getenv: func(string) string { return "" }}
	if _, err := a.openOutput("", "xlsx"); err == nil || !strings.Contains(err.Error(), "give --output-file FILE.xlsx") {
		t.Errorf("xlsx to a terminal: %v", err)
	}
}
