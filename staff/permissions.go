package staff

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
)

// personalData are the permissions that show or move customers' personal
// data: a member needs the current confidentiality agreement and their
// role's training before using any of them.
var personalData = map[Permission]bool{ReadCustomers: true, RevealCustomers: true, ImportCustomers: true, UseOutbox: true}

// PersonalData reports whether p shows or moves personal data.
func (p Permission) PersonalData() bool { return personalData[p] }

var grants = map[Role][]Permission{
	Admin:    {ReadCustomers, RevealCustomers, ImportCustomers, ReadTransfers, WriteTransfers, ReadAudit, ReadTemplates, WriteTemplates, UseOutbox, ReadCampaigns, WriteCampaigns, ManageGovernance, ManageIncidents, WriteAssessments},
	Agent:    {ReadCustomers, RevealCustomers, ReadTransfers, ReadTemplates, ReadCampaigns},
	Marketer: {ReadCustomers, ImportCustomers, ReadTransfers, ReadTemplates, WriteTemplates, UseOutbox, ReadCampaigns, WriteCampaigns, WriteAssessments},
	Auditor:  {ReadCustomers, ReadTransfers, ReadAudit, ReadTemplates, ReadCampaigns},
}

// Can reports whether role r holds permission p.
func (r Role) Can(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}
