package plugin

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const planYAML = `apiVersion: licensing.partnerops.io/v1alpha1
kind: CustomerLicensePlan
metadata:
  name: %s
  namespace: acme
spec:
  customer: Acme
  product: t-eul
  quantity: 3
  paymentPlan: Monthly
`

func plan(name string) string { return strings.ReplaceAll(planYAML, "%s", name) }

func TestReadPlans(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	multi := write("acme.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: acme\n---\n"+plan("eul")+"---\n\n---\n"+plan("byoc"))
	write("list.json", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"licensing.partnerops.io/v1alpha1","kind":"CustomerLicensePlan","metadata":{"name":"from-json"},"spec":{"customer":"A","product":"p","quantity":1,"paymentPlan":"Monthly"}}]}`)
	write("README.md", "not a manifest")
	write("sub/deep.yml", plan("deep"))
	noPlan := write("other/namespace.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: acme\n")
	broken := write("broken/bad.yaml", "apiVersion: [\n")

	names := func(ms []manifest) string {
		var out []string
		for _, m := range ms {
			out = append(out, m.obj.GetName())
		}
		return strings.Join(out, " ")
	}
	var notes bytes.Buffer
	got, err := readPlans([]string{multi}, false, nil, &notes)
	if err != nil || names(got) != "eul byoc" {
		t.Errorf("a multi-document file: %q, %v", names(got), err)
	}
	if !strings.Contains(notes.String(), "note: skipping Namespace (1) in "+multi+": not CustomerLicensePlans") {
		t.Errorf("notes: %q", notes.String())
	}

	got, err = readPlans([]string{dir}, false, nil, &notes)
	if err != nil || names(got) != "eul byoc from-json" {
		t.Errorf("a directory: %q, %v", names(got), err)
	}
	if _, err = readPlans([]string{dir}, true, nil, &notes); err == nil || !strings.Contains(err.Error(), "bad.yaml: document 1 is not YAML or JSON") {
		t.Errorf("a directory with a broken file, recursively: %v", err)
	}
	got, err = readPlans([]string{filepath.Join(dir, "sub")}, false, nil, &notes)
	if err != nil || names(got) != "deep" {
		t.Errorf("a subdirectory: %q, %v", names(got), err)
	}
	if _, err := readPlans([]string{noPlan}, false, nil, &notes); err == nil || err.Error() != noPlan+" holds no CustomerLicensePlan (apiVersion licensing.partnerops.io/v1alpha1, kind CustomerLicensePlan)" {
		t.Errorf("a file with no plan: %v", err)
	}
	if _, err := readPlans([]string{filepath.Join(dir, "other")}, false, nil, &notes); err == nil || !strings.Contains(err.Error(), "holds no CustomerLicensePlan") {
		t.Errorf("a directory with no plan: %v", err)
	}
	if _, err := readPlans([]string{broken}, false, nil, &notes); err == nil {
		t.Error("a broken file is accepted")
	}
	got, err = readPlans([]string{"-"}, false, strings.NewReader(plan("stdin")), &notes)
	if err != nil || names(got) != "stdin" {
		t.Errorf("stdin: %q, %v", names(got), err)
	}
	if _, err := readPlans(nil, false, nil, &notes); err == nil {
		t.Error("no -f is accepted")
	}
}
