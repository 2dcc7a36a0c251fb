package bankdata

// template describes one kind of transaction: how the bank describes it and
// how an aggregator categorises it. Amount ranges are in minor units.
type template struct {
	description      string
	merchant         string
	category         string
	classification   []string
	providerCategory string
	categoryCode     string
	categoryName     string
	min, max         int64
}

// everyday purchases on a current account (debit card, cash machine).
var currentPurchases = []template{
	{"TESCO STORES 2041", "Tesco", "PURCHASE", []string{"Shopping", "Groceries"}, "DEB", "C_SH_01", "Shopping - Groceries", 250, 9500},
	{"SAINSBURYS SMRKT STORE 128", "Sainsburys", "PURCHASE", []string{"Shopping", "Groceries"}, "DEB", "C_SH_01", "Shopping - Groceries", 300, 8800},
	{"PRET A MANGER LONDON", "Pret A Manger", "PURCHASE", []string{"Food & Dining", "Coffee shops"}, "DEB", "C_FD_02", "Food & Dining - Coffee", 195, 1250},
	{"COSTA COFFEE 43011", "Costa Coffee", "PURCHASE", []string{"Food & Dining", "Coffee shops"}, "DEB", "C_FD_02", "Food & Dining - Coffee", 210, 890},
	{"TFL TRAVEL CH", "Transport for London", "PURCHASE", []string{"Transport", "Public transport"}, "DEB", "C_TR_01", "Transport - Public", 175, 1580},
	{"SHELL ISLINGTON", "Shell", "PURCHASE", []string{"Auto & Transport", "Gas & Fuel"}, "DEB", "C_TR_02", "Transport - Fuel", 2500, 7800},
	{"BOOTS 1123", "Boots", "PURCHASE", []string{"Health & Fitness", "Pharmacy"}, "DEB", "C_HE_01", "Health - Pharmacy", 199, 3400},
	{"PAYPAL EBAY", "eBay", "PURCHASE", []string{"Shopping", "General"}, "DEB", "C_SH_00", "Shopping - Generic", 500, 6500},
	{"DELIVEROO.CO.UK", "Deliveroo", "PURCHASE", []string{"Food & Dining", "Fast Food"}, "DEB", "C_FD_01", "Food & Dining - Takeaway", 1200, 3800},
	{"GOOGLE PLAY STORE", "Google play", "PURCHASE", []string{"Entertainment", "Games"}, "DEB", "C_EN_01", "Entertainment - Games", 99, 1499},
	{"CINEWORLD O2 GREENWICH", "Cineworld", "PURCHASE", []string{"Entertainment", "Movies & DVDs"}, "DEB", "C_EN_02", "Entertainment - Cinema", 850, 2900},
	{"CASH ATM 04 OCT LINK", "", "ATM", []string{"Cash"}, "CPT", "C_CA_00", "Cash - Withdrawal", 1000, 10000},
}

// purchases on the credit card.
var cardPurchases = []template{
	{"AMAZON.CO.UK*MK1234", "Amazon", "PURCHASE", []string{"Shopping", "General"}, "PUR", "C_SH_00", "Shopping - Generic", 699, 12999},
	{"SAINSBURYS SMRKT STORE 128", "Sainsburys", "PURCHASE", []string{"Shopping", "Groceries"}, "PUR", "C_SH_01", "Shopping - Groceries", 1200, 9900},
	{"TRAINLINE.COM", "Trainline", "PURCHASE", []string{"Transport", "Rail"}, "PUR", "C_TR_01", "Transport - Public", 1550, 14500},
	{"JOHN LEWIS OXFORD ST", "John Lewis", "PURCHASE", []string{"Shopping", "Home"}, "PUR", "C_SH_02", "Shopping - Home", 1500, 18900},
	{"UBER *TRIP HELP.UBER.COM", "Uber", "PURCHASE", []string{"Transport", "Taxi"}, "PUR", "C_TR_03", "Transport - Taxi", 650, 3400},
	{"WAGAMAMA SOHO", "Wagamama", "PURCHASE", []string{"Food & Dining", "Restaurants"}, "PUR", "C_FD_03", "Food & Dining - Restaurants", 1400, 6200},
}

var (
	tmplSalary        = template{"ACME LIMITED SALARY", "", "TRANSFER", []string{"Income", "Salary"}, "FPI", "C_IN_01", "Income - Salary", 0, 0}
	tmplHousehold     = template{"TRANSFER FROM J DOE", "", "TRANSFER", []string{"Transfer"}, "FPI", "C_TF_00", "Transfers - Generic", 0, 0}
	tmplRent          = template{"HIGH ST LETTINGS RENT", "", "STANDING_ORDER", []string{"Home", "Rent"}, "SO", "C_HO_01", "Home - Rent", 0, 0}
	tmplToSavings     = template{"TRANSFER TO SAVINGS", "", "STANDING_ORDER", []string{"Transfer"}, "SO", "C_TF_00", "Transfers - Generic", 0, 0}
	tmplFromCurrent   = template{"TRANSFER FROM CURRENT ACCOUNT", "", "TRANSFER", []string{"Transfer"}, "FPI", "C_TF_00", "Transfers - Generic", 0, 0}
	tmplInterest      = template{"INTEREST (GROSS)", "", "INTEREST", []string{}, "INT", "C_IN_02", "Income - Interest", 0, 0}
	tmplOverdraftFee  = template{"O/D USAGE FEE", "", "FEE_CHARGE", []string{"Fees"}, "CHG", "C_BK_01", "Bank - Fees", 600, 600}
	tmplCardPayment   = template{"CREDIT CARD PAYMENT", "", "BILL_PAYMENT", []string{"Bills and Utilities", "Credit Card"}, "BP", "C_BL_01", "Bills - Credit card", 0, 0}
	tmplCardPaymentIn = template{"PAYMENT RECEIVED - THANK YOU", "", "CREDIT", []string{}, "PAY", "C_TF_00", "Transfers - Generic", 0, 0}
	tmplNetflix       = template{"NETFLIX.COM", "Netflix", "PURCHASE", []string{"Entertainment", "Movies & DVDs"}, "PUR", "C_EN_03", "Entertainment - Subscriptions", 1099, 1099}
)

// directDebitDef is a direct debit collected monthly from the main current account.
type directDebitDef struct {
	tmpl template
	name string
	dom  int // day of month
	base int64
}

var directDebitDefs = []directDebitDef{
	{template{"COUNCIL TAX", "", "DIRECT_DEBIT", []string{"Bills and Utilities", "Council Tax"}, "DD", "C_BL_02", "Bills - Council tax", 0, 0}, "LB ISLINGTON COUNCIL TAX", 3, 15200},
	{template{"THAMES WATER", "Thames Water", "DIRECT_DEBIT", []string{"Bills and Utilities", "Water"}, "DD", "C_BL_03", "Bills - Water", 0, 0}, "THAMES WATER", 15, 3393},
	{template{"EE LIMITED", "EE", "DIRECT_DEBIT", []string{"Bills and Utilities", "Mobile Phone"}, "DD", "C_BL_04", "Bills - Phone", 0, 0}, "EE", 17, 2500},
	{template{"BRITISH GAS", "British Gas", "DIRECT_DEBIT", []string{"Bills and Utilities", "Gas & Electric"}, "DD", "C_BL_05", "Bills - Energy", 0, 0}, "BRITISH GAS", 20, 6800},
}

var (
	firstNames = []string{"Jane", "Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Mia", "Leo"}
	lastNames  = []string{"Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas", "Roberts", "Walker"}
	streets    = []string{"Market Street", "High Street", "Baker Street", "Church Road", "Station Road", "Mill Lane"}
	cities     = []struct{ city, state, postcode string }{
		{"London", "Greater London", "N1 9GU"},
		{"Manchester", "Greater Manchester", "M1 1AE"},
		{"Bristol", "Bristol", "BS1 4DJ"},
		{"Leeds", "West Yorkshire", "LS1 4AP"},
	}
)
