package api

import (
	"fmt"
	"slices"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/templates"
)

// TestOpenAPIEnumsAreTheStates: where openapi.yaml lists a state's
// values, they are the typed constants' values, so neither can change
// without the other.
func TestOpenAPIEnumsAreTheStates(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	param := func(path, name string) []string {
		op, _ := openAPIDig(doc, "paths", path, "get").(map[string]any)
		params, _ := op["parameters"].([]any)
		for _, p := range params {
			if p, ok := p.(map[string]any); ok && p["name"] == name {
				return openAPIEnum(openAPIDig(p, "schema", "enum"))
			}
		}
		return nil
	}
	schemaEnum := func(schema string) []string {
		return openAPIEnum(openAPIDig(doc, "components", "schemas", schema, "properties", "status", "enum"))
	}
	for _, c := range []struct {
		where     string
		got, want []string
	}{
		{"GET /campaigns status", param("/campaigns", "status"), stateNames(campaigns.StatusDraft, campaigns.StatusScheduled,
			campaigns.StatusRunning, campaigns.StatusPaused, campaigns.StatusCompleted, campaigns.StatusCancelled)},
		{"GET /campaigns/{id}/deliveries status", param("/campaigns/{id}/deliveries", "status"), stateNames(campaigns.DeliveryStatuses...)},
		{"GET /tickets status", param("/tickets", "status"), stateNames(feedback.Statuses...)},
		{"Ticket.status", openAPIEnum(openAPIDig(doc, "components", "schemas", "Ticket", "properties", "status", "enum")), stateNames(feedback.Statuses...)},
		{"TicketMessage.delivery_status", openAPIEnum(openAPIDig(doc, "components", "schemas", "TicketMessage", "properties", "delivery_status", "enum")),
			stateNames(channels.StatusSending, channels.StatusSent, channels.StatusDelivered, channels.StatusFailed, channels.StatusBounced)},
		{"GET /templates channel", param("/templates", "channel"), stateNames(templates.Channels...)},
		{"GET /customers status", param("/customers", "status"), stateNames(customers.StatusActive, customers.StatusOptedOut, customers.StatusErased)},
		{"Customer.status", schemaEnum("Customer"), stateNames(customers.StatusActive, customers.StatusOptedOut, customers.StatusErased)},
		{"GET /wechat-binds status", param("/wechat-binds", "status"), stateNames(customers.BindPending, customers.BindApproved, customers.BindRejected)},
		{"WeChatBind.status", schemaEnum("WeChatBind"), stateNames(customers.BindPending, customers.BindApproved, customers.BindRejected)},
		{"Import.status", schemaEnum("Import"), stateNames(importer.ImportPending, importer.ImportRunning, importer.ImportCompleted, importer.ImportFailed)},
		{"Incident.status", schemaEnum("Incident"), stateNames(incidents.StatusOpen, incidents.StatusContained, incidents.StatusClosed)},
		{"DestructionPlan.status", schemaEnum("DestructionPlan"), stateNames(lifecycle.PlanRequested, lifecycle.PlanApproved, lifecycle.PlanRunning,
			lifecycle.PlanCompleted, lifecycle.PlanCancelled)},
	} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if len(c.got) == 0 || !slices.Equal(c.got, c.want) {
			t.Errorf("%s: openapi.yaml lists %v, the constants are %v", c.where, c.got, c.want)
		}
	}
}

// openAPIDig walks doc's nested maps by keys; nil when a key is missing.
func openAPIDig(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func openAPIEnum(v any) []string {
	list, _ := v.([]any)
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = fmt.Sprint(s)
	}
	return out
}

func stateNames[S fmt.Stringer](list ...S) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.String()
	}
	return out
}
