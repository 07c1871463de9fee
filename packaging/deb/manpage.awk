# Turns a program's --help text into a man page (roff), so that the page says what the program says and never drifts.
# help2man would do, but its page of flanneld's help runs each "env FLANNELD_..." line into the description and
# puts the command list in the synopsis; this knows the two layouts we have:
#   flanneld --help:        "Usage: flanneld [flags]   what it does" (then indented lines for more commands),
#                           "group:" headings, "  --flag value" with the description and "env NAME" indented below,
#                           "Exit status: ..." at the end;
#   mk-docker-opts.sh -h:   "usage: $0 [-f FILE] ...", "  -f FILE  description" on one line.
# Any other line is text, a blank line ends a paragraph.
#
# usage: awk -v name=NAME -v section=N -v version=VERSION -v date=YYYY-MM-DD -v summary="one line" \
#            -v description="a paragraph" -f manpage.awk HELP-TEXT
# The caller appends its own sections (FILES, SEE ALSO) after the output.

# roff: a backslash is \e, a minus is \- (so it is not hyphenated and searches find it), and a line must not start
# with a control character.
function esc(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}

function line(s) {
	if (s ~ /^[.']/) {
		s = "\\&" s
	}
	print s
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# "flanneld check-config [FILE|-]": the program and its command words in bold, the arguments in roman.
function synopsis(s,    n, words, i, out, literal) {
	n = split(s, words, / +/)
	out = ""
	literal = 1
	for (i = 1; i <= n; i++) {
		if (i > 1 && words[i] !~ /^[a-z][a-z0-9-]*$/) {
			literal = 0
		}
		out = out (i > 1 ? " " : "") (literal ? "\\fB" esc(words[i]) "\\fR" : esc(words[i]))
	}
	return out
}

function section_header(title) {
	end_paragraph()
	print ".SH " title
	in_section = title
}

function end_paragraph() {
	if (paragraph != "") {
		print ".PP"
		line(esc(paragraph))
		paragraph = ""
	}
}

# One option: its term (flag and argument) and its description, which may follow on later lines.
function flush_option() {
	if (option_term == "") {
		return
	}
	print ".TP"
	line(option_term)
	if (option_text != "") {
		line(esc(option_text))
	}
	if (option_env != "") {
		print ".br"
		line("Environment variable: \\fB" esc(option_env) "\\fR")
	}
	option_term = option_text = option_env = ""
}

function term(s,    n, words, i, out) {
	n = split(s, words, / /)
	out = "\\fB" esc(words[1]) "\\fR"
	for (i = 2; i <= n; i++) {
		out = out " \\fI" esc(words[i]) "\\fR"
	}
	return out
}

BEGIN {
	if (name == "" || section == "" || version == "" || date == "" || summary == "" || description == "") {
		print "manpage.awk: name, section, version, date, summary and description are needed" > "/dev/stderr"
		exit 2
	}
	printf ".TH %s %s %s \"flannel-cs %s\" \"System Manager's Manual\"\n", toupper(esc(name)), section, date, esc(version)
	print ".SH NAME"
	line(esc(name) " \\- " esc(summary))
	ncommands = 0
	state = "start"
}

{
	sub(/\r$/, "")
	gsub(/\$0/, name)
}

# The usage line and the further commands indented under it.
state == "start" && /^[Uu]sage: / {
	rest = $0
	sub(/^[Uu]sage: +/, "", rest)
	state = "usage"
}
state == "usage" {
	if (rest == "") {
		rest = trim($0)
	}
	if (rest == "") {
		state = "text"
		next
	}
	split(rest, parts, /   +/)
	ncommands++
	command[ncommands] = trim(parts[1])
	command_text[ncommands] = trim(substr(rest, length(parts[1]) + 1))
	rest = ""
	next
}
state == "start" || state == "text" {
	if (!synopsis_done) {
		section_header("SYNOPSIS")
		for (i = 1; i <= ncommands; i++) {
			if (i > 1) {
				print ".br"
			}
			line(synopsis(command[i]))
		}
		section_header("DESCRIPTION")
		line(esc(description))
		if (ncommands > 1) {
			for (i = 1; i <= ncommands; i++) {
				if (command_text[i] != "") {
					print ".TP"
					line(synopsis(command[i]))
					line(esc(command_text[i]))
				}
			}
		} else if (ncommands == 1 && command_text[1] != "") {
			paragraph = command_text[1]
		}
		synopsis_done = 1
		state = "text"
	}
}

/^[ \t]*$/ {
	flush_option()
	end_paragraph()
	next
}

# "Exit status: ..." opens its own section; the text goes on until a blank line.
/^Exit status:/ {
	flush_option()
	section_header("\"EXIT STATUS\"")
	paragraph = trim(substr($0, length("Exit status:") + 1))
	next
}

# A group heading such as "etcd:" or "kubernetes (not supported):".
/^[A-Za-z][^:]*:$/ && length($0) < 60 {
	flush_option()
	if (in_section != "OPTIONS") {
		section_header("OPTIONS")
	}
	end_paragraph()
	heading = $0
	sub(/:$/, "", heading)
	print ".SS \"" esc(heading) "\""
	next
}

# An option: "  --flag value" (description below) or "  -f FILE  description".
# (No /^ {1,5}-/: mawk, Debian's awk, has no interval expressions.)
/^ +-/ && match($0, /^ +/) && RLENGTH <= 5 {
	flush_option()
	end_paragraph()
	if (in_section != "OPTIONS") {
		section_header("OPTIONS")
	}
	text = trim($0)
	split(text, parts, /  +/)
	option_term = term(parts[1])
	option_text = trim(substr(text, length(parts[1]) + 1))
	next
}

# More of an option's description, or its environment variable.
option_term != "" && /^      +/ {
	text = trim($0)
	if (text ~ /^env [A-Z][A-Z0-9_]*$/) {
		option_env = substr(text, 5)
	} else {
		option_text = option_text (option_text == "" ? "" : " ") text
	}
	next
}

{
	flush_option()
	paragraph = paragraph (paragraph == "" ? "" : " ") trim($0)
}

END {
	flush_option()
	end_paragraph()
}
