package plugin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// manifest is a CustomerLicensePlan read from a file.
type manifest struct {
	obj  *unstructured.Unstructured
	file string
}

// isPlan reports whether the object is a CustomerLicensePlan.
func isPlan(u *unstructured.Unstructured) bool {
	gvk := u.GroupVersionKind()
	return gvk.Group == v1alpha1.GroupVersion.Group && gvk.Kind == "CustomerLicensePlan"
}

// readPlans reads the CustomerLicensePlans of the files and directories (their .yaml, .yml and
// .json files; with recursive, those of their subdirectories too), "-" being stdin. Each file may
// hold several documents, and List objects are unpacked. Objects of other kinds are skipped with
// a note to notes. A file named on its own that holds no plan is refused, as is a directory with
// none.
func readPlans(paths []string, recursive bool, stdin io.Reader, notes io.Writer) ([]manifest, error) {
	if len(paths) == 0 {
		return nil, errors.New("preview needs -f FILE or DIRECTORY: the CustomerLicensePlan manifests to preview")
	}
	var plans []manifest
	for _, path := range paths {
		if path == "-" {
			got, err := readManifestFile("stdin", stdin, notes)
			if err != nil {
				return nil, err
			}
			if len(got) == 0 {
				return nil, errors.New("stdin holds no CustomerLicensePlan")
			}
			plans = append(plans, got...)
			continue
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			got, err := readManifestPath(path, notes)
			if err != nil {
				return nil, err
			}
			if len(got) == 0 {
				return nil, fmt.Errorf("%s holds no CustomerLicensePlan (apiVersion %s, kind CustomerLicensePlan)", path, v1alpha1.GroupVersion)
			}
			plans = append(plans, got...)
			continue
		}
		found := 0
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != path && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
			default:
				return nil
			}
			got, err := readManifestPath(p, notes)
			found += len(got)
			plans = append(plans, got...)
			return err
		})
		if err != nil {
			return nil, err
		}
		if found == 0 {
			hint := ""
			if !recursive {
				hint = " (-R reads its subdirectories too)"
			}
			return nil, fmt.Errorf("directory %s holds no CustomerLicensePlan in its .yaml, .yml and .json files%s", path, hint)
		}
	}
	return plans, nil
}

func readManifestPath(path string, notes io.Writer) ([]manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readManifestFile(path, f, notes)
}

// readManifestFile reads the plans of the YAML or JSON documents of r, named file.
func readManifestFile(file string, r io.Reader, notes io.Writer) ([]manifest, error) {
	var plans []manifest
	var skipped []string // kinds, in order, with a count each
	counts := map[string]int{}
	defer func() {
		if len(skipped) == 0 {
			return
		}
		parts := make([]string, len(skipped))
		for i, kind := range skipped {
			parts[i] = fmt.Sprintf("%s (%d)", kind, counts[kind])
		}
		fmt.Fprintf(notes, "note: skipping %s in %s: not CustomerLicensePlans\n", strings.Join(parts, ", "), file)
	}()
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return plans, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s: document %d is not YAML or JSON: %w", file, doc, err)
		}
		if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%s: document %d is not a Kubernetes object: %w", file, doc, err)
		}
		objs := []*unstructured.Unstructured{u}
		if u.IsList() {
			list, err := u.ToList()
			if err != nil {
				return nil, fmt.Errorf("%s: document %d: %w", file, doc, err)
			}
			objs = objs[:0]
			for i := range list.Items {
				objs = append(objs, &list.Items[i])
			}
		}
		for _, o := range objs {
			if !isPlan(o) {
				if o.GroupVersionKind().Group != "kustomize.config.k8s.io" { // a kustomization.yaml: not an object
					kind := o.GetKind()
					if counts[kind] == 0 {
						skipped = append(skipped, kind)
					}
					counts[kind]++
				}
				continue
			}
			if o.GetName() == "" {
				return nil, fmt.Errorf("%s: a CustomerLicensePlan without metadata.name", file)
			}
			plans = append(plans, manifest{obj: o, file: file})
		}
	}
}
