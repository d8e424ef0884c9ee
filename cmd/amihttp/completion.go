package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/amihttp/amihttp/httpami/actions"
	"github.com/amihttp/amihttp/httpami/events"
)

// completionCommand is "amihttp completion".
var completionCommand = &command{
	name:    "completion",
	args:    "bash|zsh",
	summary: "print a shell completion script for bash or zsh",
	help: `
Completion prints a script that teaches bash or zsh to complete amihttp's
command lines: the commands, the flags of each, the actions of the catalog
after "action" (case ignored, as AMI does), then that action's parameters
as Key=, the event names after "events --type" and the classes after
"--mask". The script holds its own copy of the lists, made from this
amihttp's tables: generate it again after an upgrade.

For the current shell:

	source <(amihttp completion bash)
	source <(amihttp completion zsh)      # after compinit

For every session, add that line to ~/.bashrc or ~/.zshrc, or save the
script where the shell looks for completions:

	amihttp completion bash > ~/.local/share/bash-completion/completions/amihttp
	amihttp completion zsh > "${fpath[1]}/_amihttp"
`,
	setup: func(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
		return func(_ context.Context, args []string) error {
			if len(args) != 1 {
				return usagef("want one shell, bash or zsh")
			}
			var script string
			switch args[0] {
			case "bash":
				script = bashCompletion(gatherCompletion())
			case "zsh":
				script = zshCompletion(gatherCompletion())
			default:
				return usagef("unknown shell %q: want bash or zsh", args[0])
			}
			if _, err := io.WriteString(e.stdout, script); err != nil {
				return fmt.Errorf("printing the script: %w", err)
			}
			return nil
		}
	},
}

// completionData is what the completion scripts complete, from the
// commands table and the catalog.
type completionData struct {
	commands []string       // the command names, in the table's order
	flags    []commandFlags // the flags of each command
	actions  []string       // the catalog's actions
	params   []actionParams // their parameters
	events   []string       // the catalog's events
	classes  []string       // "on" and the classes of the catalog's events
}

// commandFlags are the flags of one command.
type commandFlags struct {
	command string
	flags   []string // as typed: --url, -v, --help
	value   []string // the names of those that take a value: url
	file    []string // the names of those whose value is a file: cacert
}

// actionParams are the parameters of one action, as completed: "Channel=".
type actionParams struct {
	action string
	params []string
}

// gatherCompletion returns the completion data of this amihttp.
func gatherCompletion() completionData {
	var d completionData
	for _, c := range commands {
		d.commands = append(d.commands, c.name)
		cf := commandFlags{command: c.name}
		fs, _ := c.flagSet(&env{})
		fs.VisitAll(func(f *flag.Flag) {
			if len(f.Name) == 1 {
				cf.flags = append(cf.flags, "-"+f.Name)
			} else {
				cf.flags = append(cf.flags, "--"+f.Name)
			}
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				cf.value = append(cf.value, f.Name)
			}
			if name, _ := flag.UnquoteUsage(f); name == "file" {
				cf.file = append(cf.file, f.Name)
			}
		})
		cf.flags = append(cf.flags, "--help")
		d.flags = append(d.flags, cf)
	}
	for _, s := range actions.All() {
		if !shellSafe(s.Name) {
			continue
		}
		d.actions = append(d.actions, s.Name)
		ap := actionParams{action: s.Name}
		for _, p := range s.Params {
			// An indexed name, UnitAmount(0), would need quoting, and a
			// free-form one, HeaderN, is no name to type.
			if p.Pattern == "indexed" || p.Pattern == "free-form" || !shellSafe(p.Name) {
				continue
			}
			ap.params = append(ap.params, p.Name+"=")
		}
		d.params = append(d.params, ap)
	}
	classes := []string{"on"}
	for _, s := range events.All() {
		if shellSafe(s.Name) {
			d.events = append(d.events, s.Name)
		}
		for _, c := range s.Class {
			if shellSafe(c) && !slices.Contains(classes, c) {
				classes = append(classes, c)
			}
		}
	}
	slices.Sort(classes[1:])
	d.classes = classes
	return d
}

// shellSafe reports whether s can be written as it is, unquoted, in a
// shell script, and typed so on a command line.
func shellSafe(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		case strings.ContainsRune("-_.,:=+@/", r):
		default:
			return false
		}
	}
	return true
}

// wrapWords writes words separated by spaces, with a newline and indent
// (tabs 8 columns wide) instead of a space where a line would pass 80
// columns.
func wrapWords(b *strings.Builder, indent string, words []string) {
	start := len(indent) + 7*strings.Count(indent, "\t")
	col := start
	for i, w := range words {
		switch {
		case i == 0:
		case col+1+len(w) > 80:
			b.WriteString("\n" + indent)
			col = start
		default:
			b.WriteString(" ")
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
}

// casePatterns returns the patterns of a case arm for command cmd and
// each flag name of names: "action:url|action:timeout".
func casePatterns(cmd string, names []string) string {
	p := make([]string, len(names))
	for i, n := range names {
		p[i] = cmd + ":" + n
	}
	return strings.Join(p, "|")
}

// bashCompletion returns the bash completion script of d.
func bashCompletion(d completionData) string {
	var b strings.Builder
	b.WriteString(`# bash completion for amihttp, generated by 'amihttp completion bash' from
# its commands and its catalog of AMI actions and events.
#
# For the current shell:  source <(amihttp completion bash)
# For every session, add that line to ~/.bashrc, or save the script as
# ~/.local/share/bash-completion/completions/amihttp.

`)
	for _, l := range []struct {
		name  string
		words []string
	}{{"commands", d.commands}, {"actions", d.actions}, {"events", d.events}, {"classes", d.classes}} {
		fmt.Fprintf(&b, "_amihttp_%s='\n\t", l.name)
		wrapWords(&b, "\t", l.words)
		b.WriteString("\n'\n")
	}

	b.WriteString(`
# _amihttp_flags CMD: the flags of CMD, in _amihttp_words.
_amihttp_flags() {
	case $1 in
`)
	for _, cf := range d.flags {
		fmt.Fprintf(&b, "\t%s) _amihttp_words='%s' ;;\n", cf.command, strings.Join(cf.flags, " "))
	}
	b.WriteString(`	*) _amihttp_words='--help' ;;
	esac
}

`)
	writeTakes(&b, d)
	b.WriteString(`
# _amihttp_params ACTION: the parameters of ACTION (case ignored), as Key=,
# in _amihttp_words.
_amihttp_params() {
	local nocase=0
	shopt -q nocasematch && nocase=1
	shopt -s nocasematch
	case $1 in
`)
	for _, ap := range d.params {
		fmt.Fprintf(&b, "\t%s) _amihttp_words='%s' ;;\n", ap.action, strings.Join(ap.params, " "))
	}
	b.WriteString(`	*) _amihttp_words='' ;;
	esac
	((nocase)) || shopt -u nocasematch
}
`)
	b.WriteString(bashLogic)
	return b.String()
}

// bashLogic is the code of the bash completion script, after its data.
// It splits the line itself (COMP_LINE up to COMP_POINT, at blanks), since
// bash's COMP_WORDS are also cut at '=' and ':'; only the current word of
// COMP_WORDS is used, to know what of the reply bash replaces.
const bashLogic = `
# _amihttp_reply CUR PREFIX WORDS [nocase]: COMPREPLY gets PREFIX and each
# of WORDS that together begin with CUR (ignoring case with nocase), less
# what precedes bash's own current word in CUR (which starts after an '='
# or ':').
_amihttp_reply() {
	local IFS=$' \t\n' cur=$1 w trim='' nocase=0
	local bcur=${COMP_WORDS[COMP_CWORD]}
	[[ -n $bcur && $cur == *"$bcur" ]] && trim=${cur%"$bcur"}
	if [[ -n $4 ]]; then
		shopt -q nocasematch && nocase=1
		shopt -s nocasematch
	fi
	for w in $3; do
		w=$2$w
		[[ $w == "$cur"* ]] && COMPREPLY+=("${w#"$trim"}")
	done
	[[ -n $4 ]] && ((!nocase)) && shopt -u nocasematch
	return 0
}

# _amihttp_value CMD FLAG CUR PREFIX: completes CUR, the value of FLAG,
# given after PREFIX ("--type=") or as a word of its own.
_amihttp_value() {
	local f=${2#-} head=''
	f=${f#-}
	[[ $3 == *,* ]] && head=${3%,*},
	case $1:$f in
	events:type) _amihttp_reply "$4$3" "$4$head" "$_amihttp_events" nocase ;;
	events:mask) _amihttp_reply "$4$3" "$4$head" "$_amihttp_classes" ;;
	*)
		if _amihttp_takes file "$1" "$f"; then
			local IFS=$'\n'
			COMPREPLY=($(compgen -f -- "$3"))
			compopt -o filenames 2>/dev/null
		fi ;;
	esac
	return 0
}

# _amihttp_positional CMD CUR ARG...: completes CUR, a positional argument
# of CMD after the arguments ARG.
_amihttp_positional() {
	local cmd=$1 cur=$2
	shift 2
	case $cmd in
	action)
		if (($# == 0)); then
			_amihttp_reply "$cur" '' "$_amihttp_actions" nocase
		elif [[ $cur != *=* ]]; then
			_amihttp_params "$1"
			_amihttp_reply "$cur" '' "$_amihttp_words" nocase
			compopt -o nospace 2>/dev/null
		fi ;;
	help)
		if (($# == 0)); then
			_amihttp_reply "$cur" '' "$_amihttp_commands"
		elif (($# == 1)) && [[ $1 == action ]]; then
			_amihttp_reply "$cur" '' "$_amihttp_actions" nocase
		fi ;;
	completion)
		(($# == 0)) && _amihttp_reply "$cur" '' 'bash zsh' ;;
	esac
	return 0
}

# _amihttp is the completion function of amihttp.
_amihttp() {
	local IFS=$' \t\n' line=${COMP_LINE:0:COMP_POINT} cur cmd w i n skip=0 dashdash=0
	local -a words=() pos=()
	read -r -a words <<<"$line"
	[[ -z $line || $line == *[[:space:]] ]] && words+=('')
	n=$((${#words[@]} - 1))
	cur=${words[n]}
	COMPREPLY=()
	if ((n <= 1)); then
		_amihttp_reply "$cur" '' "$_amihttp_commands help"
		return 0
	fi
	cmd=${words[1]}
	for ((i = 2; i < n; i++)); do
		w=${words[i]}
		if ((skip)); then
			skip=0
		elif ((!dashdash)) && [[ $w == -?* ]]; then
			if [[ $w == -- ]]; then
				dashdash=1
			elif [[ $w != *=* ]]; then
				w=${w#-}
				_amihttp_takes "$cmd" "${w#-}" && skip=1
			fi
		else
			pos+=("$w")
		fi
	done
	if ((skip)); then
		_amihttp_value "$cmd" "${words[n-1]}" "$cur" ''
	elif ((!dashdash)) && [[ $cur == -* ]]; then
		if [[ $cur == -*=* ]]; then
			_amihttp_value "$cmd" "${cur%%=*}" "${cur#*=}" "${cur%%=*}="
		else
			_amihttp_flags "$cmd"
			_amihttp_reply "$cur" '' "$_amihttp_words"
		fi
	else
		_amihttp_positional "$cmd" "$cur" "${pos[@]}"
	fi
	return 0
}

complete -F _amihttp amihttp
`

// zshCompletion returns the zsh completion script of d.
func zshCompletion(d completionData) string {
	var b strings.Builder
	b.WriteString(`#compdef amihttp
# zsh completion for amihttp, generated by 'amihttp completion zsh' from
# its commands and its catalog of AMI actions and events.
#
# For the current shell (after compinit):  source <(amihttp completion zsh)
# For every session, add that line to ~/.zshrc, or save the script as
# _amihttp in a directory of $fpath.

# _amihttp_data KIND: the commands, actions, events or classes, in reply.
_amihttp_data() {
	case $1 in
`)
	for _, l := range []struct {
		kind  string
		words []string
	}{{"commands", d.commands}, {"actions", d.actions}, {"events", d.events}, {"classes", d.classes}} {
		fmt.Fprintf(&b, "\t%s) reply=(\n\t\t", l.kind)
		wrapWords(&b, "\t\t", l.words)
		b.WriteString("\n\t) ;;\n")
	}
	b.WriteString(`	esac
}

# _amihttp_flags CMD: the flags of CMD, in reply.
_amihttp_flags() {
	case $1 in
`)
	for _, cf := range d.flags {
		fmt.Fprintf(&b, "\t%s) reply=(%s) ;;\n", cf.command, strings.Join(cf.flags, " "))
	}
	b.WriteString(`	*) reply=(--help) ;;
	esac
}

`)
	writeTakes(&b, d)
	b.WriteString(`
# _amihttp_params ACTION: the parameters of ACTION (case ignored), as Key=,
# in reply.
_amihttp_params() {
	case ${(L)1} in
`)
	for _, ap := range d.params {
		fmt.Fprintf(&b, "\t%s) reply=(%s) ;;\n", strings.ToLower(ap.action), strings.Join(ap.params, " "))
	}
	b.WriteString(`	*) reply=() ;;
	esac
}
`)
	b.WriteString(zshLogic)
	return b.String()
}

// zshLogic is the code of the zsh completion script, after its data.
const zshLogic = `
# _amihttp_value CMD FLAG: completes the value of FLAG (no dashes).
_amihttp_value() {
	case $1:$2 in
	events:type)
		compset -P '*,'
		_amihttp_data events
		compadd -M 'm:{a-zA-Z}={A-Za-z}' -- $reply ;;
	events:mask)
		compset -P '*,'
		_amihttp_data classes
		compadd -- $reply ;;
	*)
		_amihttp_takes file $1 $2 && _files ;;
	esac
}

# _amihttp is the completion function of amihttp.
_amihttp() {
	local cur=${words[CURRENT]} cmd=${words[2]} w f
	local -i i skip=0 dashdash=0
	local -a pos reply
	if (( CURRENT <= 2 )); then
		_amihttp_data commands
		compadd -- $reply help
		return
	fi
	for (( i = 3; i < CURRENT; i++ )); do
		w=${words[i]}
		if (( skip )); then
			skip=0
		elif (( ! dashdash )) && [[ $w == -?* ]]; then
			if [[ $w == -- ]]; then
				dashdash=1
			elif [[ $w != *=* ]]; then
				_amihttp_takes $cmd ${${w#-}#-} && skip=1
			fi
		else
			pos+=("$w")
		fi
	done
	if (( skip )); then
		f=${words[CURRENT-1]}
		_amihttp_value $cmd ${${f#-}#-}
	elif (( ! dashdash )) && [[ $cur == -* ]]; then
		if [[ $cur == -*=* ]]; then
			f=${cur%%=*}
			compset -P '*='
			_amihttp_value $cmd ${${f#-}#-}
		else
			_amihttp_flags $cmd
			compadd -- $reply
		fi
	else
		case $cmd in
		action)
			if (( ${#pos} == 0 )); then
				_amihttp_data actions
				compadd -M 'm:{a-zA-Z}={A-Za-z}' -- $reply
			elif [[ $cur != *=* ]]; then
				_amihttp_params $pos[1]
				compadd -S '' -M 'm:{a-zA-Z}={A-Za-z}' -- $reply
			fi ;;
		help)
			if (( ${#pos} == 0 )); then
				_amihttp_data commands
				compadd -- $reply
			elif (( ${#pos} == 1 )) && [[ $pos[1] == action ]]; then
				_amihttp_data actions
				compadd -M 'm:{a-zA-Z}={A-Za-z}' -- $reply
			fi ;;
		completion)
			(( ${#pos} == 0 )) && compadd -- bash zsh ;;
		esac
	fi
}

if [[ ${zsh_eval_context[-1]} == loadautofunc ]]; then
	_amihttp "$@"
else
	compdef _amihttp amihttp
fi
`

// writeTakes writes the shell function _amihttp_takes, the same in bash
// and zsh.
func writeTakes(b *strings.Builder, d completionData) {
	b.WriteString(`# _amihttp_takes CMD NAME: whether the flag NAME (no dashes) of CMD takes
# a value, a file for "_amihttp_takes file CMD NAME".
_amihttp_takes() {
	if [[ $1 == file ]]; then
		case $2:$3 in
`)
	for _, cf := range d.flags {
		if len(cf.file) > 0 {
			fmt.Fprintf(b, "\t\t%s) return 0 ;;\n", casePatterns(cf.command, cf.file))
		}
	}
	b.WriteString(`		esac
		return 1
	fi
	case $1:$2 in
`)
	for _, cf := range d.flags {
		if len(cf.value) > 0 {
			fmt.Fprintf(b, "\t%s) return 0 ;;\n", casePatterns(cf.command, cf.value))
		}
	}
	b.WriteString(`	esac
	return 1
}
`)
}
