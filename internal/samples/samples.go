// Package samples reads the sample objects of config/samples (the catalog, the billing profile
// and the customers) in the order they can be applied: what an object refers to comes first.
package samples

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Object is one object of the sample YAML files, with the file it came from.
type Object struct {
	Obj  *unstructured.Unstructured
	File string
}

// applyOrder is the order in which kinds are applied: what an object refers to comes first.
// Other kinds come last.
var applyOrder = map[string]int{
	"Namespace":           0,
	"LicenseProduct":      1,
	"BillingProfile":      2,
	"CustomerLicensePlan": 3,
	"LicenseAssignment":   4,
}

// Read reads every object of the YAML files under dir (recursively, skipping the
// kustomization.yaml files) and sorts them by applyOrder, keeping the files' order otherwise.
func Read(dir string) ([]Object, error) {
	var objs []Object
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ext := filepath.Ext(path)
		if (ext != ".yaml" && ext != ".yml") || strings.TrimSuffix(d.Name(), ext) == "kustomization" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if t := bytes.TrimSpace(raw); len(t) == 0 || bytes.Equal(t, []byte("null")) {
				continue // an empty document
			}
			u := &unstructured.Unstructured{}
			if err := u.UnmarshalJSON(raw); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			objs = append(objs, Object{Obj: u, File: path})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("read the samples: %w", err)
	}
	if len(objs) == 0 {
		return nil, fmt.Errorf("no objects in the YAML files under %s (choose another directory with -samples)", dir)
	}
	rank := func(kind string) int {
		if r, ok := applyOrder[kind]; ok {
			return r
		}
		return len(applyOrder)
	}
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i].Obj.GetKind()) < rank(objs[j].Obj.GetKind()) })
	return objs, nil
}
