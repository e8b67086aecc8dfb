package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/partnerops/license-operator/api/v1alpha1"
)

// table is one listing the demo prints.
type table struct {
	heading    string
	short      string // the kubectl short name
	resource   string // the plural resource name
	namespaced bool   // list across all namespaces, with a NAMESPACE column
	wide       bool   // include the columns of priority 1, as -o wide does
}

// args are the kubectl get arguments of the listing.
func (t table) args() string {
	a := t.short
	if t.namespaced {
		a += " -A"
	}
	if t.wide {
		a += " -o wide"
	}
	return a
}

// printTable prints the listing to stdout with kubectl when there is one, else from the API
// server's own tables (the printer columns of the CRDs) formatted as kubectl formats them.
func printTable(ctx context.Context, t table, kubectl, kubeconfig string, cfg *rest.Config) error {
	if kubectl != "" {
		cmd := exec.CommandContext(ctx, kubectl, append([]string{"--kubeconfig", kubeconfig, "get"}, strings.Fields(t.args())...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}

	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	url := strings.TrimSuffix(cfg.Host, "/") + "/apis/" + v1alpha1.GroupVersion.String() + "/" + t.resource
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("%s: %s", resp.Status, body)
	}
	var tbl metav1.Table
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber() // print integers as they are, never as 1e+06
	if err := dec.Decode(&tbl); err != nil {
		return err
	}
	if len(tbl.Rows) == 0 {
		fmt.Println("No resources found")
		return nil
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 8, 3, ' ', 0)
	var header []string
	if t.namespaced {
		header = append(header, "NAMESPACE")
	}
	for _, c := range tbl.ColumnDefinitions {
		if c.Priority == 0 || t.wide {
			header = append(header, strings.ToUpper(c.Name))
		}
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, row := range tbl.Rows {
		var cells []string
		if t.namespaced {
			var m metav1.PartialObjectMetadata
			_ = json.Unmarshal(row.Object.Raw, &m)
			cells = append(cells, m.Namespace)
		}
		for i, c := range tbl.ColumnDefinitions {
			if i >= len(row.Cells) || (c.Priority != 0 && !t.wide) {
				continue
			}
			cell := "" // kubectl prints nothing for a missing value
			if row.Cells[i] != nil {
				cell = fmt.Sprint(row.Cells[i])
			}
			cells = append(cells, cell)
		}
		fmt.Fprintln(w, strings.Join(cells, "\t"))
	}
	return w.Flush()
}
