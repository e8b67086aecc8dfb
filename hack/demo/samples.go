package main

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

// sample is one object of the sample YAML files, with the file it came from.
type sample struct {
	obj  *unstructured.Unstructured
	file string
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

// readSamples reads every object of the YAML files under dir (recursively, skipping the
// kustomization.yaml files) and sorts them by applyOrder, keeping the files' order otherwise.
func readSamples(dir string) ([]sample, error) {
	var objs []sample
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
			objs = append(objs, sample{obj: u, file: path})
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
	sort.SliceStable(objs, func(i, j int) bool { return rank(objs[i].obj.GetKind()) < rank(objs[j].obj.GetKind()) })
	return objs, nil
}
