package plugin

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
)

// Options are what the plugin runs with. The zero value of each field but IOStreams means the
// real thing; tests set them.
type Options struct {
	genericiooptions.IOStreams
	// Clock tells the time, for the ages of Events. Nil means the real clock.
	Clock clock.PassiveClock
	// Getenv reads the environment (NO_COLOR). Nil means os.Getenv.
	Getenv func(string) string
	// WrapConfig, when set, wraps the REST config of every client, as kubectl's WrapConfigFn.
	WrapConfig func(*rest.Config) *rest.Config
}

// app is one run of the plugin: its streams, the kubectl flags and what the commands share.
type app struct {
	genericiooptions.IOStreams
	flags  *genericclioptions.ConfigFlags
	clock  clock.PassiveClock
	getenv func(string) string
	wrap   func(*rest.Config) *rest.Config
}

// Main runs the plugin with the process's arguments and streams and returns its exit code.
func Main() int {
	o := Options{IOStreams: genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}}
	return Run(context.Background(), o, os.Args[1:])
}

// Run runs the plugin with args and returns its exit code: 0, or 1 after printing the error to
// o.ErrOut as a sentence a person can act on, never a stack trace.
func Run(ctx context.Context, o Options, args []string) int {
	cmd := NewCommand(o)
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(o.ErrOut, "error:", explain(err))
		return 1
	}
	return 0
}

// NewCommand is the root command, `kubectl license`, with the kubectl flags (--kubeconfig,
// --context, -n, --as...) and a subcommand per task.
func NewCommand(o Options) *cobra.Command {
	a := &app{IOStreams: o.IOStreams, flags: genericclioptions.NewConfigFlags(true), clock: o.Clock, getenv: o.Getenv, wrap: o.WrapConfig}
	if a.clock == nil {
		a.clock = clock.RealClock{}
	}
	if a.getenv == nil {
		a.getenv = os.Getenv
	}
	root := &cobra.Command{
		Use:   "kubectl-license",
		Short: "License plans, order history, approvals, previews and billing of license-operator",
		Long: `kubectl license shows and changes what license-operator manages, as a partner portal does:
the License Plans and Order History tables, a plan's whole status, approving orders, a preview of
what a change of plans would order and cost, and the billing statement of a month, with CSV and
XLSX spreadsheets for finance.`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl license"},
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(a.In)
	root.SetOut(a.Out)
	root.SetErr(a.ErrOut)
	a.flags.AddFlags(root.PersistentFlags())
	root.AddCommand(
		a.plansCommand(),
		a.historyCommand(),
		a.statusCommand(),
		a.approveCommand(true),
		a.approveCommand(false),
		a.previewCommand(),
		a.statementCommand(),
		a.renewalCommand(),
		a.entitlementCommand(),
		a.keysCommand(),
	)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath())
	})
	return root
}

// coloured reports whether output to w is coloured: on a terminal, without NO_COLOR. An
// *output is a terminal when it is stdout and stdout is one.
func (a *app) coloured(w io.Writer) bool {
	terminal := isTerminal(w)
	if o, ok := w.(*output); ok {
		terminal = o.terminal
	}
	return useColour(terminal, a.getenv("NO_COLOR"))
}

// formatFlag is an -o flag whose value must be one of choices.
type formatFlag struct {
	value   string
	choices []string
}

func (f *formatFlag) String() string { return f.value }
func (f *formatFlag) Type() string   { return "format" }
func (f *formatFlag) Set(v string) error {
	for _, c := range f.choices {
		if strings.EqualFold(v, c) {
			f.value = c
			return nil
		}
	}
	return fmt.Errorf("want one of %s", strings.Join(f.choices, ", "))
}

// addOutputFlag adds -o with the given formats, the first being the default.
func addOutputFlag(cmd *cobra.Command, choices ...string) *formatFlag {
	f := &formatFlag{value: choices[0], choices: choices}
	cmd.Flags().VarP(f, "output", "o", "output format: "+strings.Join(choices, "|"))
	return f
}

// output is where a command writes its result: stdout, or the file of --output-file.
type output struct {
	io.Writer
	file     *os.File
	terminal bool
	path     string
}

// openOutput opens the file of --output-file, or stdout when path is empty. A binary format
// (xlsx) is refused on a terminal.
func (a *app) openOutput(path, format string) (*output, error) {
	if path == "" || path == "-" {
		if format == "xlsx" && isTerminal(a.Out) {
			return nil, fmt.Errorf("-o xlsx writes a binary workbook: give --output-file FILE.xlsx, or redirect stdout to a file")
		}
		return &output{Writer: a.Out, terminal: isTerminal(a.Out)}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &output{Writer: f, file: f, path: path}, nil
}

// close closes the file of --output-file, and says on stderr what was written to it.
func (o *output) close(a *app, what string) error {
	if o.file == nil {
		return nil
	}
	if err := o.file.Close(); err != nil {
		return err
	}
	fmt.Fprintf(a.ErrOut, "wrote %s to %s\n", what, o.path)
	return nil
}

// plural is "1 order" or "2 orders".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
