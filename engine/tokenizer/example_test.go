package tokenizer_test

import (
	"fmt"
	"log"

	"github.com/urlvr/urlvr/engine/tokenizer"
)

// The synthetic arithmetic world needs digits, operators, spaces,
// newlines, lowercase words and \boxed{}: fifty characters after the four
// special tokens, in code-point order ("\n" is 4, "0" is 14, "a" is 26).
func ExampleNewChar() {
	alphabet := "0123456789+-*/()=., \n" + "abcdefghijklmnopqrstuvwxyz" + `\{}`
	tok, err := tokenizer.NewChar(alphabet, tokenizer.CharOptions{})
	if err != nil {
		log.Fatal(err)
	}
	bos, _ := tok.Special(tokenizer.RoleBOS)
	eos, _ := tok.Special(tokenizer.RoleEOS)
	ids := append([]int{bos}, tok.Encode(`2+3=\boxed{5}`)...)
	ids = append(ids, eos)
	fmt.Println(tok.VocabSize())
	fmt.Println(ids)
	fmt.Printf("%q\n", tok.Decode(ids))
	// Output:
	// 54
	// [1 16 9 17 24 25 27 40 49 30 29 52 19 53 2]
	// "<bos>2+3=\\boxed{5}<eos>"
}

// Loading a Hugging Face checkpoint's tokenizer: tokenizer.json, with the
// special-token roles of tokenizer_config.json.
func ExampleLoadDir() {
	tok, err := tokenizer.LoadDir("path/to/Qwen3-0.6B")
	if err != nil {
		log.Fatal(err)
	}
	ids := tok.Encode("<|im_start|>user\nWhat is 2+2?<|im_end|>\n")
	eos, _ := tok.Special(tokenizer.RoleEOS) // <|im_end|> for Qwen3
	fmt.Println(len(ids), eos)
}
