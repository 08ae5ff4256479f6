package basemodel_test

import (
	"context"
	"fmt"

	"github.com/urlvr/urlvr/basemodel"
)

// Open the default base model ("base") and sample four answers to a
// problem at temperature 1.
func ExampleOpen() {
	m, err := basemodel.Open(basemodel.DefaultAlias)
	if err != nil {
		fmt.Println(err)
		return
	}
	responses, _, err := m.Generate(context.Background(), []string{"Q: 47+38+16=?\n"}, 4, 1, basemodel.MaxNewTokens, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range responses {
		fmt.Printf("%q\n", r)
	}
}
