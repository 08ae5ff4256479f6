package data_test

import (
	"fmt"

	"github.com/urlvr/urlvr/data"
)

func ExampleLoad() {
	// A DAPO-Math-17k-shaped Parquet file: the prompt is a chat message
	// list and the answer sits in reward_model.ground_truth.
	recs, err := data.Load("testdata/dapo.parquet", data.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	r := recs[1]
	fmt.Println(r.DataSource, r.Answer, r.IsChat(), len(r.Messages))
	fmt.Println(r.Prompt)
	// Output:
	// math_dapo 1024 true 2
	// What is $2^{10}$?
}

func ExampleLoad_error() {
	_, err := data.Load("testdata/bad_prompt.jsonl", data.Options{})
	fmt.Println(err)
	// Output:
	// testdata/bad_prompt.jsonl:2: field "prompt[0].content": missing
}
