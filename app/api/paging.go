package api

import "github.com/danielgtaylor/huma/v2"

// Paging asks for one page of a list: the first, or the one after a page's next_cursor. A
// cursor holds where its page ended in the order it was listed by, so pages stay stable while
// records are added and removed, in every order.
type Paging struct {
	Limit         int    `query:"limit" minimum:"1" maximum:"100" default:"25" doc:"Records per page"`
	StartingAfter string `query:"starting_after" maxLength:"1200" doc:"The next_cursor of the page before; the same sort and order"`
}

// Page says whether a list goes on.
type Page struct {
	HasMore    bool   `json:"has_more"`
	NextCursor string `json:"next_cursor,omitempty" doc:"Pass as starting_after for the next page; absent on the last"`
}

func page(next string) Page { return Page{HasMore: next != "", NextCursor: next} }

// badCursor answers a starting_after that is not a cursor of this list in this order.
func badCursor() error {
	return huma.Error422UnprocessableEntity("The request has invalid fields.",
		&huma.ErrorDetail{Location: "query.starting_after", Message: "Pass the next_cursor of the page before, with the same sort and order."})
}
