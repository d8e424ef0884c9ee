package main

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
)

// completionScript runs "amihttp completion shell" and returns the
// script, written to a file of t's temporary directory, and its text.
func completionScript(t *testing.T, shell string) (string, string) {
	t.Helper()
	r := runAmihttp(t, nil, "completion", shell)
	require.Equal(t, exitOK, r.code, "stderr: %s", r.stderr)
	require.Empty(t, r.stderr)
	path := filepath.Join(t.TempDir(), "amihttp."+shell)
	require.NoError(t, os.WriteFile(path, []byte(r.stdout), 0o600))
	return path, r.stdout
}

// TestCompletionScript checks that each script holds the commands, their
// flags, the actions and their parameters, and the events.
func TestCompletionScript(t *testing.T) {
	for _, shell := range []string{"bash", "zsh"} {
		t.Run(shell, func(t *testing.T) {
			_, script := completionScript(t, shell)
			words := map[string]bool{}
			for _, w := range regexp.MustCompile(`[^\s'()|;]+`).FindAllString(script, -1) {
				words[w] = true
			}
			for _, c := range commands {
				assert.True(t, words[c.name], "command %s", c.name)
				flags := regexp.MustCompile(`(?m)^\t` + c.name + `\) (_amihttp_words='|reply=\()(.*)['\)] ;;$`).FindStringSubmatch(script)
				require.NotNil(t, flags, "the flags of %s", c.name)
				fs, _ := c.flagSet(&env{})
				fs.VisitAll(func(f *flag.Flag) {
					want := "--" + f.Name
					if len(f.Name) == 1 {
						want = "-" + f.Name
					}
					assert.Contains(t, strings.Fields(flags[2]), want, "flag %s of %s", f.Name, c.name)
				})
			}
			for _, s := range actions.All() {
				assert.True(t, words[s.Name], "action %s", s.Name)
			}
			for _, s := range events.All() {
				assert.True(t, words[s.Name], "event %s", s.Name)
			}
			name := "Originate"
			if shell == "zsh" {
				name = "originate"
			}
			assert.Regexp(t, `(?m)^\t`+name+`\) \S+ActionID= Channel= Exten= `, script)
			assert.True(t, words["Action-000000="], "a numbered parameter, as its first")
			assert.False(t, words["UnitAmount(0)="], "no indexed parameter")
			assert.False(t, words["HeaderN="], "no free-form parameter")
		})
	}
}

// bashWords splits line as bash splits a command line into COMP_WORDS:
// at blanks, and around the '=' and ':' of its default COMP_WORDBREAKS.
func bashWords(line string) []string {
	var words []string
	for _, f := range strings.Fields(line) {
		for f != "" {
			i := strings.IndexAny(f, "=:")
			switch {
			case i < 0:
				words, f = append(words, f), ""
			case i > 0:
				words, f = append(words, f[:i]), f[i:]
			default:
				j := 1
				for j < len(f) && strings.ContainsRune("=:", rune(f[j])) {
					j++
				}
				words, f = append(words, f[:j]), f[j:]
			}
		}
	}
	if line == "" || strings.HasSuffix(line, " ") {
		words = append(words, "")
	}
	return words
}

// bashDriver sources the script $1, sets the completion variables as bash
// does for the line $2 (its words after it), calls the completion
// function and prints COMPREPLY, one a line.
const bashDriver = `
source "$1" || exit 1
COMP_LINE=$2
COMP_POINT=${#COMP_LINE}
shift 2
COMP_WORDS=("$@")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_amihttp amihttp "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
for w in "${COMPREPLY[@]}"; do printf '%s\n' "$w"; done
`

// completionCase is a command line and the completions wanted at its end.
type completionCase struct {
	line string
	want []string
}

// completionCases returns the cases both shells must complete alike, in a
// directory that holds a file ca.pem.
func completionCases() []completionCase {
	hangup := []string{"Hangup", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest"}
	return []completionCase{
		{"amihttp ac", []string{"action", "actions"}},
		{"amihttp co", []string{"completion"}},
		{"amihttp action Orig", []string{"Originate"}},
		{"amihttp action orig", []string{"Originate"}},
		{"amihttp action Originate Chan", []string{"Channel=", "ChannelId="}},
		{"amihttp action --json originate Exten=100 chan", []string{"Channel=", "ChannelId="}},
		{"amihttp action --url http://h:8088/ -v Orig", []string{"Originate"}},
		{"amihttp action UpdateConfig Act", []string{"ActionID=", "Action-000000="}},
		{"amihttp action Originate Channel=Loc", nil},
		{"amihttp action NoSuchAction X", nil},
		{"amihttp action Originate --j", []string{"--json"}},
		{"amihttp events --type Hang", hangup},
		{"amihttp events --type hangupr", []string{"HangupRequest"}},
		{"amihttp events --type Hangup,newc", []string{"Hangup,NewCallerid", "Hangup,NewConnectedLine", "Hangup,Newchannel"}},
		{"amihttp events --count 3 --ty", []string{"--type"}},
		{"amihttp events --c", []string{"--cacert", "--count"}},
		{"amihttp events --mask call,us", []string{"call,user"}},
		{"amihttp events --list Hang", nil},
		{"amihttp help act", []string{"action", "actions"}},
		{"amihttp help action Pin", []string{"Ping"}},
		{"amihttp completion ", []string{"bash", "zsh"}},
		{"amihttp completion bash ", nil},
		{"amihttp action --cacert c", []string{"ca.pem"}},
	}
}

// TestBashCompletion drives the bash script's completion function as bash
// would, if bash is installed.
func TestBashCompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	script, _ := completionScript(t, "bash")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ca.pem"), nil, 0o600))
	complete := func(t *testing.T, line string) []string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		args := append([]string{"--norc", "--noprofile", "-c", bashDriver, "bash", script, line}, bashWords(line)...)
		var stderr strings.Builder
		cmd := exec.CommandContext(ctx, bash, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C"}
		cmd.Dir = dir
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "bash: %s", stderr.String())
		assert.Empty(t, stderr.String(), "bash's stderr")
		return strings.Fields(string(out))
	}
	cases := append(completionCases(),
		// bash's own current word starts after '=': the reply leaves out
		// what comes before it.
		completionCase{"amihttp events --type=Hang", []string{"Hangup", "HangupHandlerPop", "HangupHandlerPush", "HangupHandlerRun", "HangupRequest"}},
		completionCase{"amihttp events --type=Hangup,HangupR", []string{"Hangup,HangupRequest"}},
	)
	for _, tt := range cases {
		t.Run(tt.line, func(t *testing.T) {
			assert.ElementsMatch(t, tt.want, complete(t, tt.line))
		})
	}
	t.Run("commands", func(t *testing.T) {
		got := complete(t, "amihttp ")
		for _, c := range commands {
			assert.Contains(t, got, c.name)
		}
		assert.Contains(t, got, "help")
	})
	t.Run("the parameters of each action", func(t *testing.T) {
		for _, name := range []string{"Originate", "PJSIPNotify", "UpdateConfig", "AOCMessage", "UserEvent", "Ping"} {
			s, ok := actions.Lookup(name)
			require.True(t, ok, name)
			var want []string
			for _, p := range s.Params {
				if p.Pattern != "indexed" && p.Pattern != "free-form" {
					want = append(want, p.Name+"=")
				}
			}
			assert.ElementsMatch(t, want, complete(t, "amihttp action "+name+" "), name)
		}
	})
}

// zshDriver sources the script $1 with stand-ins for the completion
// system's compadd, compset, compdef and _files, which print the matches
// one a line, sets words and CURRENT to the rest of its arguments and calls
// the completion function.
const zshDriver = `
compdef() { : }
_files() { print -r -- '<files>' }
compset() { [[ $1 == -P ]] && PREFIX=${PREFIX##$~2}; return 0 }
compadd() {
	local nocase=0 w
	while (( $# )) && [[ $1 != -- ]]; do
		[[ $1 == -M ]] && nocase=1
		shift
	done
	shift
	for w in "$@"; do
		if (( nocase )); then
			[[ ${(L)w} == ${(L)PREFIX}* ]] && print -r -- $w
		else
			[[ $w == ${PREFIX}* ]] && print -r -- $w
		fi
	done
}
source $1 || exit 1
shift
words=("$@")
CURRENT=$#
PREFIX=$words[CURRENT]
_amihttp
exit 0 # a function that finds no match returns 1
`

// TestZshCompletion checks the zsh script's syntax and, with stand-ins
// for the completion system, what it offers, if zsh is installed.
func TestZshCompletion(t *testing.T) {
	zsh, err := exec.LookPath("zsh")
	if err != nil {
		t.Skip("no zsh")
	}
	script, _ := completionScript(t, "zsh")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, zsh, "-n", script).CombinedOutput()
	require.NoError(t, err, "zsh -n: %s", out)

	for _, tt := range completionCases() {
		t.Run(tt.line, func(t *testing.T) {
			words := strings.Fields(tt.line)
			if strings.HasSuffix(tt.line, " ") {
				words = append(words, "")
			}
			args := append([]string{"-f", "-c", zshDriver, "zsh", script}, words...)
			var stderr strings.Builder
			cmd := exec.CommandContext(ctx, zsh, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			require.NoError(t, err, "zsh: %s", stderr.String())
			assert.Empty(t, stderr.String())
			got := strings.Fields(string(out))
			want := tt.want
			if strings.Contains(tt.line, "--cacert") {
				want = []string{"<files>"} // _files does the rest
			}
			if strings.Contains(tt.line, ",") {
				// compset moved what precedes the last comma out of
				// the word: zsh keeps it in front of the match.
				for i, w := range want {
					want[i] = w[strings.LastIndexByte(w, ',')+1:]
				}
			}
			assert.ElementsMatch(t, want, got)
		})
	}
}
