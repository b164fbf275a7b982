// argocd-health runs the health check docs/argocd.md gives Argo CD, in the Lua interpreter
// Argo CD embeds (gopher-lua), on one object: the docs' script is tested as users paste it.
//
//	argocd-health DOC KIND < object.json
//
// DOC is docs/argocd.md; its YAML block is read as YAML (so the anchor and its aliases
// are checked too) and the script of resource.customizations.health.mediana.dev_KIND runs
// with `obj` set to the object. Prints {"status": ..., "message": ...}.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"gopkg.in/yaml.v3"
)

func main() {
	if len(os.Args) != 3 {
		fail("usage: argocd-health DOC KIND < object.json")
	}
	script, err := healthScript(os.Args[1], os.Args[2])
	if err != nil {
		fail(err.Error())
	}
	var obj any
	if err := json.NewDecoder(os.Stdin).Decode(&obj); err != nil {
		fail("the object on standard input is not JSON: " + err.Error())
	}
	health, err := run(script, obj)
	if err != nil {
		fail(err.Error())
	}
	out, _ := json.Marshal(health)
	fmt.Println(string(out))
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "argocd-health:", message)
	os.Exit(1)
}

// healthScript is the Lua of KIND in the first ```yaml block of DOC.
func healthScript(doc, kind string) (string, error) {
	text, err := os.ReadFile(doc)
	if err != nil {
		return "", err
	}
	_, rest, found := strings.Cut(string(text), "```yaml\n")
	block, _, closed := strings.Cut(rest, "```")
	if !found || !closed {
		return "", fmt.Errorf("%s has no ```yaml block", doc)
	}
	var config struct {
		Data map[string]string `yaml:"data"`
	}
	if err := yaml.Unmarshal([]byte(block), &config); err != nil {
		return "", fmt.Errorf("the YAML block of %s: %w", doc, err)
	}
	key := "resource.customizations.health.mediana.dev_" + kind
	script, ok := config.Data[key]
	if !ok {
		return "", fmt.Errorf("%s has no %s", doc, key)
	}
	return script, nil
}

// run evaluates script as Argo CD does: a global `obj`, and a returned table with status
// and message.
func run(script string, obj any) (map[string]string, error) {
	state := lua.NewState(lua.Options{SkipOpenLibs: false})
	defer state.Close()
	state.SetGlobal("obj", toLua(state, obj))
	if err := state.DoString(script); err != nil {
		return nil, fmt.Errorf("the script failed: %w", err)
	}
	table, ok := state.Get(-1).(*lua.LTable)
	if !ok {
		return nil, fmt.Errorf("the script returned %s, not a table", state.Get(-1).Type())
	}
	health := map[string]string{}
	for _, field := range []string{"status", "message"} {
		if value := table.RawGetString(field); value != lua.LNil {
			health[field] = value.String()
		}
	}
	return health, nil
}

// toLua converts decoded JSON to Lua values: objects and arrays become tables, as Argo CD
// hands its scripts the object.
func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		table := state.NewTable()
		for key, item := range v {
			table.RawSetString(key, toLua(state, item))
		}
		return table
	case []any:
		table := state.NewTable()
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case string:
		return lua.LString(v)
	case float64:
		return lua.LNumber(v)
	case bool:
		return lua.LBool(v)
	default:
		return lua.LNil
	}
}
