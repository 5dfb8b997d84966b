package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/spf13/cobra"

	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/wire"
)

func newTreeCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "tree [ID]",
		Short: "Print the live supervision trees: status, node, restart counts, last failure",
		Long: `tree asks every live node for its supervision tree and prints it: the node's
root supervisor, each tree started with spawn --tree or run (as tree/NAME),
and a one-child supervisor per other actor. With an ID (an actor's, or
tree/NAME) it prints only the subtrees with that id. Restart counts are
those since the node hosts the actor; a failed actor is listed by
theater ls once its supervisor has given up.`,
		Example: "  theater tree\n  theater tree tree/story",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				id := ""
				if len(args) == 1 {
					id = args[0]
				}
				trees, err := c.Tree(ctx, id)
				if err != nil {
					return err
				}
				if f.asJSON {
					if trees == nil {
						trees = []wire.TreeNode{}
					}
					return printJSON(cmd.OutOrStdout(), trees)
				}
				for _, t := range trees {
					printTree(cmd.OutOrStdout(), t, "", "")
				}
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

// printTree prints t and its children, one line each, indented as a tree.
func printTree(w io.Writer, t wire.TreeNode, first, rest string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s%s  %s", first, t.ID, t.Kind)
	if t.Strategy != "" {
		fmt.Fprintf(&b, " %s", t.Strategy)
	}
	if t.Restart != "" {
		fmt.Fprintf(&b, " %s", t.Restart)
	}
	fmt.Fprintf(&b, "  %s", t.Status)
	if t.Node != "" {
		fmt.Fprintf(&b, " on %s", t.Node)
	}
	fmt.Fprintf(&b, "  restarts %d", t.Restarts)
	if t.LastFailure != "" {
		fmt.Fprintf(&b, "  last failure: %s", t.LastFailure)
	}
	fmt.Fprintln(w, b.String())
	for i, c := range t.Children {
		if i == len(t.Children)-1 {
			printTree(w, c, rest+"└─ ", rest+"   ")
		} else {
			printTree(w, c, rest+"├─ ", rest+"│  ")
		}
	}
}

// spawnTree is spawn --tree: it starts a tree file's supervisors and
// actors on a node.
func spawnTree(ctx context.Context, cmd *cobra.Command, f *connFlags, c *client.Client, path string, opts client.SpawnOptions) error {
	var infos []wire.ActorInfo
	err := slow(cmd.ErrOrStderr(), "uploading the modules and waiting for a node", func() (err error) {
		infos, err = c.SpawnTree(ctx, path, opts)
		return err
	})
	if err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(cmd.OutOrStdout(), infos)
	}
	for _, info := range infos {
		fmt.Fprintf(cmd.OutOrStdout(), "%s started on node %s (module %s)\n", info.ID, info.Node, info.Digest)
	}
	return nil
}

// isTreeFile reports whether a TOML file declares a supervision tree (it
// has children) rather than one actor. An unreadable file is left to the
// manifest loader, whose errors say more.
func isTreeFile(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	var top map[string]any
	if toml.Unmarshal(b, &top) != nil {
		return false
	}
	_, ok := top["children"]
	return ok
}
