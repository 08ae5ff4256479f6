package tokenizer

import (
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization. A nil normalizer leaves
// text unchanged.
type normalizer func(string) string

func buildNormalizer(c *hfComponent) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.Type {
	case "NFC":
		return nfc, nil
	case "NFD":
		return norm.NFD.String, nil
	case "NFKC":
		return norm.NFKC.String, nil
	case "NFKD":
		return norm.NFKD.String, nil
	case "Sequence":
		var steps []normalizer
		for i, sub := range c.Normalizers {
			step, err := buildNormalizer(sub)
			if err != nil {
				return nil, fmt.Errorf("normalizer %d of sequence: %w", i, err)
			}
			if step != nil {
				steps = append(steps, step)
			}
		}
		if len(steps) == 0 {
			return nil, nil
		}
		return func(s string) string {
			for _, step := range steps {
				s = step(s)
			}
			return s
		}, nil
	default:
		return nil, fmt.Errorf("normalizer type %q is not supported", c.Type)
	}
}

// nfc is norm.NFC.String with a fast path for ASCII, which every
// normalization form leaves unchanged.
func nfc(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return norm.NFC.String(s)
		}
	}
	return s
}
