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
	// ManageStaff adds staff, changes roles, disables accounts.
	ManageStaff Permission = "staff.manage"
)

var grants = map[Role][]Permission{
	Admin:    {ReadCustomers, RevealCustomers, ImportCustomers, ReadTransfers, WriteTransfers, ReadAudit, ReadTemplates, WriteTemplates, UseOutbox, ReadCampaigns, WriteCampaigns, ManageStaff},
	Agent:    {ReadCustomers, RevealCustomers, ReadTransfers, ReadTemplates, ReadCampaigns},
	Marketer: {ReadCustomers, ImportCustomers, ReadTransfers, ReadTemplates, WriteTemplates, UseOutbox, ReadCampaigns, WriteCampaigns},
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
