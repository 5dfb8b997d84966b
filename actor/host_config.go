package actor

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/theater-go/theater/actor/abi"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/wit"
	"github.com/theater-go/theater/wit/codec"
)

// SecretSource supplies the secrets the config capability serves: the
// node's, never the manifest's. Secret returns false when it has none of
// that name.
type SecretSource interface {
	Secret(name string) (string, bool)
}

// EnvSecrets are secrets from the environment: secret "api_key" is the
// variable prefix + "API_KEY" (the name upper-cased, '-' as '_').
func EnvSecrets(prefix string) SecretSource { return envSecrets(prefix) }

type envSecrets string

func (p envSecrets) Secret(name string) (string, bool) {
	return os.LookupEnv(string(p) + strings.ToUpper(strings.ReplaceAll(name, "-", "_")))
}

// FileSecrets are secrets from files: secret "api_key" is the content of
// dir/api_key, without a trailing newline.
func FileSecrets(dir string) SecretSource { return fileSecrets(dir) }

type fileSecrets string

func (d fileSecrets) Secret(name string) (string, bool) {
	if !manifest.ValidStoreNamespace(name) { // no path separators, no ".."
		return "", false
	}
	b, err := os.ReadFile(filepath.Join(string(d), name))
	if err != nil {
		return "", false
	}
	return strings.TrimSuffix(string(b), "\n"), true
}

// ConfigOf returns the values and the secret names of a manifest's
// [capabilities.config].
func ConfigOf(m *manifest.Manifest) (values map[string]string, secrets []string) {
	c := m.Capabilities.Config
	if c == nil {
		return nil, nil
	}
	values = map[string]string{}
	for _, v := range c.Value {
		values[v.Name] = v.Value
	}
	for _, s := range c.Secret {
		secrets = append(secrets, s.Name)
	}
	return values, secrets
}

var loadConfigErr = sync.OnceValues(func() (wit.Type, error) {
	a, err := abi.Load()
	if err != nil {
		return nil, err
	}
	t, ok := a.Type("config", "error")
	if !ok {
		return nil, abi.ErrWIT
	}
	return t, nil
})

// config.get(name_ptr, name_len, retptr)
func hostConfigGet(ctx context.Context, i *instance, stack []uint64) int32 {
	nameB, ok := i.bytesAt(stack[0], stack[1])
	retptr := uint32(stack[2])
	_, ok2 := i.mem.Read(retptr, 8)
	switch {
	case !ok || !ok2:
		return abi.StatusFault
	case !utf8.Valid(nameB):
		return abi.StatusInvalid
	}
	name := string(nameB)
	if v, ok := i.a.spec.ConfigValues[name]; ok {
		return i.give(ctx, []byte(v), retptr)
	}
	if !slices.Contains(i.a.spec.SecretNames, name) {
		return configErr(ctx, i, retptr, "unknown", name)
	}
	var v string
	if src := i.a.spec.Secrets; src != nil {
		v, ok = src.Secret(name)
	}
	if !ok {
		return configErr(ctx, i, retptr, "missing", name)
	}
	return i.give(ctx, []byte(v), retptr)
}

func configErr(ctx context.Context, i *instance, retptr uint32, c, name string) int32 {
	t, err := loadConfigErr()
	if err != nil {
		return abi.StatusUnavailable
	}
	data, err := codec.Marshal(t, codec.Variant{Case: c, Value: name})
	if err != nil {
		return abi.StatusUnavailable // the WIT and this code disagree: a host defect
	}
	if st := i.give(ctx, data, retptr); st != abi.StatusOK {
		return st
	}
	return abi.StatusErr
}
