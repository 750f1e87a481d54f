package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"moat/models"
)

// Product imports run like customer imports (Process, Undo), matched by SKU, through the
// product store: every product an import writes is validated and audited like one added by
// hand, and its undo trashes what it created and puts back what it changed.

// cellsOf are row's cells by the field the batch maps their column to, trimmed.
func cellsOf(b models.ImportBatch, row []string) map[string]string {
	cell := map[string]string{}
	for col, field := range b.Mapping {
		if i := mustAtoi(col); i < len(row) {
			cell[field] = strings.TrimSpace(row[i])
		}
	}
	return cell
}

// productRow decides what a product import does with one row, and unless dry does it.
func (s *Imports) productRow(ctx context.Context, tx *gorm.DB, b models.ImportBatch, row []string, dry bool, known *importTags) (string, []rowError, error) {
	cell := cellsOf(b, row)
	match, err := matchSKU(tx, cell["sku"])
	if err != nil {
		return "", nil, err
	}
	switch {
	case match == uuid.Nil && b.Mode == "update", match != uuid.Nil && b.Mode == "create":
		return "skip", nil, nil
	}
	tagIDs, rejected, err := s.tags(tx, cell["tags"], dry, known)
	if err != nil || rejected != nil {
		return "reject", rejected, err
	}
	if match == uuid.Nil {
		in := models.ProductInput{Stocked: true}
		if bad := fillProduct(&in, cell, tagIDs, true); bad != nil {
			return "reject", bad, nil
		}
		if dry {
			return verdict("create", in.Validate())
		}
		p, err := s.products.Create(ctx, in)
		if action, rejected, err := verdict("create", err); action != "create" || err != nil {
			return action, rejected, err
		}
		return "create", nil, s.changed(tx, models.ImportProducts, b.ID, p.ID, "created", nil)
	}
	if dry {
		var p models.Product
		if err := tx.Where("id = ?", match).Take(&p).Error; err != nil {
			return "", nil, err
		}
		in := models.ProductInputOf(p)
		if bad := fillProduct(&in, cell, tagIDs, false); bad != nil {
			return "reject", bad, nil
		}
		return verdict("update", in.Validate())
	}
	var (
		before models.ProductInput
		bad    []rowError
	)
	_, err = s.products.Patch(ctx, match.String(), func(cur *models.ProductInput) {
		before = *cur
		bad = fillProduct(cur, cell, tagIDs, false)
	})
	if bad != nil {
		return "reject", bad, nil
	}
	if action, rejected, err := verdict("update", err); action != "update" || err != nil {
		return action, rejected, err
	}
	return "update", nil, s.changed(tx, models.ImportProducts, b.ID, match, "updated", &before)
}

// matchSKU finds the product outside the trash with sku (in any case): none for an empty one.
func matchSKU(tx *gorm.DB, sku string) (uuid.UUID, error) {
	if sku == "" {
		return uuid.Nil, nil
	}
	var ids []uuid.UUID
	if err := tx.Model(&models.Product{}).Where("sku_key = lower(?) AND deleted_at IS NULL", sku).Limit(1).Pluck("id", &ids).Error; err != nil {
		return uuid.Nil, fmt.Errorf("match import row: %w", err)
	}
	if len(ids) == 0 {
		return uuid.Nil, nil
	}
	return ids[0], nil
}

// fillProduct sets in's fields to a row's cells: a new product takes every mapped cell, an
// update leaves a field alone when its cell is empty. Numbers are read as people write them
// (importDecimal); a stocked cell that says neither yes nor no is refused.
func fillProduct(in *models.ProductInput, cell map[string]string, tagIDs []string, create bool) []rowError {
	set := func(dst *string, field string, read func(string) string) {
		if v, ok := cell[field]; ok && (create || v != "") {
			*dst = read(v)
		}
	}
	same := func(v string) string { return v }
	set(&in.SKU, "sku", same)
	set(&in.Name, "name", same)
	set(&in.Unit, "unit", same)
	set(&in.Currency, "currency", strings.ToUpper)
	set(&in.Description, "description", same)
	set(&in.SalePrice, "sale_price", importDecimal)
	set(&in.TaxRate, "tax_rate", func(v string) string { return importDecimal(strings.TrimSuffix(strings.TrimSpace(v), "%")) })
	set(&in.ReorderLevel, "reorder_level", importDecimal)
	if v := strings.ToLower(cell["stocked"]); v != "" {
		switch v {
		case "yes", "y", "true", "1", "stocked", "goods", "product":
			in.Stocked = true
		case "no", "n", "false", "0", "service":
			in.Stocked = false
		default:
			return []rowError{{field: "stocked", message: "Write yes for goods kept in stock, or no for a service."}}
		}
	}
	for _, id := range tagIDs {
		if !slices.Contains(in.TagIDs, id) {
			in.TagIDs = append(in.TagIDs, id)
		}
	}
	return nil
}

// importDecimal reads a number as a spreadsheet of any country writes it: "1 234,50",
// "1.234,50", "1,234.50", "12,5" and "€ 12.50" alike. The last of a comma and a dot is the
// decimal separator; a lone comma is one too (so "1,234" reads as 1.234, as most of Europe
// writes it). Anything else is left for validation to refuse.
func importDecimal(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\u00a0' || r == '\u202f' || r == '\'' || strings.ContainsRune("€$£¥", r) {
			return -1
		}
		return r
	}, v)
	dot, comma := strings.LastIndex(v, "."), strings.LastIndex(v, ",")
	switch {
	case comma >= 0 && comma > dot:
		v = strings.ReplaceAll(v[:comma], ".", "") + "." + v[comma+1:]
		v = strings.ReplaceAll(v, ",", "")
	case comma >= 0:
		v = strings.ReplaceAll(v, ",", "")
	}
	return v
}

// undoProducts undoes a slice of what the import with id did to products, returning how many
// it handled and how many it kept.
func (s *Imports) undoProducts(ctx context.Context, tx *gorm.DB, id uuid.UUID) (handled, kept int, err error) {
	var changes []models.ImportProductChange
	if err := tx.Where("batch_id = ? AND undo IS NULL", id).Order("product_id").Limit(importSlice).Find(&changes).Error; err != nil {
		return 0, 0, err
	}
	for _, ch := range changes {
		outcome, err := s.undoProduct(ctx, tx, ch)
		if err != nil {
			return 0, 0, err
		}
		if outcome == "kept" {
			kept++
		}
		if err := tx.Model(&models.ImportProductChange{}).Where("batch_id = ? AND product_id = ?", id, ch.ProductID).Update("undo", outcome).Error; err != nil {
			return 0, 0, err
		}
	}
	return len(changes), kept, nil
}

// undoProduct undoes what an import did to one product, unless it changed since.
func (s *Imports) undoProduct(ctx context.Context, tx *gorm.DB, ch models.ImportProductChange) (string, error) {
	var now struct {
		UpdatedAt time.Time
		DeletedAt *time.Time
	}
	if err := tx.Raw("SELECT updated_at, deleted_at FROM products WHERE id = ?", ch.ProductID).Scan(&now).Error; err != nil {
		return "", err
	}
	if now.DeletedAt != nil || !now.UpdatedAt.Equal(ch.UpdatedAt) || (ch.Action == "updated" && ch.Before == nil) {
		return "kept", nil
	}
	var err error
	if ch.Action == "created" {
		err = s.products.Trash(ctx, ch.ProductID.String()) // one with stock stays: it is refused
	} else {
		_, err = s.products.Patch(ctx, ch.ProductID.String(), func(cur *models.ProductInput) { *cur = *ch.Before })
	}
	if models.IsAnswer(err) {
		return "kept", nil
	}
	return "undone", err
}
