// Command kubectl-license is the kubectl plugin of license-operator: `kubectl license plans`,
// `history`, `status`, `approve`, `deny`, `preview`, `statement` and `renewal`. Install it with
// `make plugin` (bin/kubectl-license) or
// `go install github.com/partnerops/license-operator/cmd/kubectl-license@latest`, and put it on
// PATH; kubectl finds it by its name. The commands live in internal/plugin.
package main

import (
	"os"

	"github.com/partnerops/license-operator/internal/plugin"
)

func main() {
	os.Exit(plugin.Main())
}
