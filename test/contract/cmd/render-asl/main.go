// Command render-asl prints a state machine definition (by default
// infra/rollout.asl.json; `render-asl LogicalID FILE` for another) with every
// DefinitionSubstitutions placeholder replaced as a deployment with the
// template's parameter defaults would replace it. The definition holds
// numeric placeholders (TimeoutSeconds, Seconds, a Choice bound), so it is
// JSON only once rendered; `make lint` validates the rendered text with
// asl-validator.
package main

import (
	"fmt"
	"os"

	"github.com/phoenix-rollouts/phoenix/test/contract"
)

func main() {
	root, err := contract.Root(".")
	if err == nil {
		id, file := contract.StateMachineID, contract.DefinitionFile
		if len(os.Args) == 3 {
			id, file = os.Args[1], os.Args[2]
		}
		var out string
		if out, err = contract.RenderedDefinitionOf(root, id, file); err == nil {
			fmt.Println(out)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "render-asl:", err)
	os.Exit(1)
}
