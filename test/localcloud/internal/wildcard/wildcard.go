// Package wildcard is the one pattern matcher of the local cloud's models:
// EC2 filter values, Step Functions' StringMatches and IAM's actions,
// resources and StringLike differ only in which characters are special.
package wildcard

// Syntax says which characters of a pattern are special besides '*', which
// always matches any run of characters, none included.
type Syntax struct {
	// One makes '?' match exactly one character (EC2 filters, IAM).
	One bool
	// Escape makes a backslash take the character after it literally
	// (EC2 filters, StringMatches); a trailing backslash is literal.
	Escape bool
}

type token struct {
	star, one bool
	lit       rune
}

// Match reports whether s matches pattern under the syntax. It backtracks
// only to the last star, so it is linear for the patterns AWS takes and
// has no recursion to run out of.
func Match(pattern, s string, syn Syntax) bool {
	var toks []token
	ps := []rune(pattern)
	for i := 0; i < len(ps); i++ {
		switch r := ps[i]; {
		case syn.Escape && r == '\\' && i+1 < len(ps):
			i++
			toks = append(toks, token{lit: ps[i]})
		case r == '*':
			toks = append(toks, token{star: true})
		case syn.One && r == '?':
			toks = append(toks, token{one: true})
		default:
			toks = append(toks, token{lit: r})
		}
	}
	str := []rune(s)
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(str) {
		switch {
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case ti < len(toks) && (toks[ti].one || toks[ti].lit == str[si]):
			ti++
			si++
		case starT >= 0:
			starS++
			si, ti = starS, starT+1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
