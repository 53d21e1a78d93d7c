package staff

import "slices"

// Permission names an action on a kind of data.
type Permission string

// The permissions routes check.
const (
	ReadCustomers   Permission = "customers.read"   // masked views
	RevealCustomers Permission = "customers.reveal" // unmasked, audited
	ImportCustomers Permission = "customers.import"
	ReadTransfers   Permission = "transfers.read"
	WriteTransfers  Permission = "transfers.write"
	ReadAudit       Permission = "audit.read"
	ReadTemplates   Permission = "templates.read"
	WriteTemplates  Permission = "templates.write"
	// UseOutbox reads the devbox's recorded messages (full text, as the
	// customer would get them) and simulates replies: embedded mode only.
	UseOutbox Permission = "outbox.use"
	// ReadCampaigns lists campaigns, their progress and deliveries.
	ReadCampaigns Permission = "campaigns.read"
	// WriteCampaigns creates, starts, pauses, resumes and cancels campaigns.
	WriteCampaigns Permission = "campaigns.write"
	// ManageGovernance publishes the confidentiality agreement and
	// training, runs access reviews and publishes the public report.
	ManageGovernance Permission = "governance.manage"
	// ManageIncidents records incidents and their timeline.
	ManageIncidents Permission = "incidents.manage"
	// WriteAssessments drafts impact assessments; approving one needs
	// governance.manage and another person.
	WriteAssessments Permission = "assessments.write"
	// ReviewCorrections lists, reveals, approves and rejects customers'
	// correction requests (PIPL Art. 46).
	ReviewCorrections Permission = "corrections.review"
	// EraseCustomers erases a customer on request, or records a refusal
	// (Art. 47, 50).
	EraseCustomers Permission = "customers.erase"
	// WriteLinks issues and revokes customers' personal portal links.
	WriteLinks Permission = "links.write"
	// ExportTransfers writes the buyer's encrypted handover package.
	ExportTransfers Permission = "transfers.export"
	// RequestDestruction plans and requests the destruction of the
	// seller's copy; ApproveDestruction is the second person's approval.
	RequestDestruction Permission = "destruction.request"
	ApproveDestruction Permission = "destruction.approve"
	// ReadTickets lists tickets and reads their conversations (audited).
	ReadTickets Permission = "tickets.read"
	// WriteTickets replies, adds notes, assigns, merges and links tickets.
	WriteTickets Permission = "tickets.write"
	// ConfigureTickets edits classification rules and canned replies.
	ConfigureTickets Permission = "tickets.configure"
	// ManageStaff adds staff, changes roles, disables accounts.
	ManageStaff Permission = "staff.manage"
	// ViewQueues looks at the task queues (/admin/queues, read-only):
	// task ids, types and payloads, which hold ids, never personal data.
	ViewQueues Permission = "queues.view"
	// ManageQueues pauses queues and runs, archives or deletes tasks.
	ManageQueues Permission = "queues.manage"
)

// personalData are the permissions that show or move customers' personal
// data: a member needs the current confidentiality agreement and their
// role's training before using any of them.
var personalData = map[Permission]bool{ReadCustomers: true, RevealCustomers: true, ImportCustomers: true, UseOutbox: true,
	ReviewCorrections: true, EraseCustomers: true, WriteLinks: true, ExportTransfers: true,
	ReadTickets: true, WriteTickets: true}

// PersonalData reports whether p shows or moves personal data.
func (p Permission) PersonalData() bool { return personalData[p] }

// grants says which roles hold each permission: one line a permission, so
// a new permission is one new line.
var grants = map[Permission][]Role{
	ReadCustomers:      {Admin, Agent, Marketer, Auditor},
	RevealCustomers:    {Admin, Agent},
	ImportCustomers:    {Admin, Marketer},
	ReadTransfers:      {Admin, Agent, Marketer, Auditor},
	WriteTransfers:     {Admin},
	ReadAudit:          {Admin, Auditor},
	ReadTemplates:      {Admin, Agent, Marketer, Auditor},
	WriteTemplates:     {Admin, Marketer},
	UseOutbox:          {Admin, Marketer},
	ReadCampaigns:      {Admin, Agent, Marketer, Auditor},
	WriteCampaigns:     {Admin, Marketer},
	ManageGovernance:   {Admin},
	ManageIncidents:    {Admin},
	WriteAssessments:   {Admin, Marketer},
	ReviewCorrections:  {Admin, Agent},
	EraseCustomers:     {Admin},
	WriteLinks:         {Admin, Agent, Marketer},
	ExportTransfers:    {Admin},
	RequestDestruction: {Admin},
	ApproveDestruction: {Auditor},
	ReadTickets:        {Admin, Agent, Auditor},
	WriteTickets:       {Admin, Agent},
	ConfigureTickets:   {Admin},
	ManageStaff:        {Admin},
	ViewQueues:         {Admin, Auditor},
	ManageQueues:       {Admin},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool { return slices.Contains(grants[p], r) }
