"""The words the demo data is made of: names, places, products and subjects. Data only."""

from decimal import Decimal

COUNTRIES = [
    # (ISO code, weight, company suffix, phone prefix)
    ("DE", 18, "GmbH", "+49"),
    ("US", 16, "Inc.", "+1"),
    ("GB", 12, "Ltd", "+44"),
    ("FR", 11, "SAS", "+33"),
    ("NL", 7, "B.V.", "+31"),
    ("ES", 7, "S.L.", "+34"),
    ("IT", 6, "S.r.l.", "+39"),
    ("SE", 5, "AB", "+46"),
    ("CH", 4, "AG", "+41"),
    ("AT", 4, "GmbH", "+43"),
    ("PL", 4, "sp. z o.o.", "+48"),
    ("BE", 3, "NV", "+32"),
    ("CA", 3, "Inc.", "+1"),
]

INDUSTRIES = [
    ("Retail", 14),
    ("Manufacturing", 13),
    ("Software", 12),
    ("Healthcare", 9),
    ("Logistics", 9),
    ("Finance", 8),
    ("Hospitality", 7),
    ("Construction", 7),
    ("Education", 6),
    ("Energy", 5),
    ("Media", 5),
    ("Public sector", 3),
]

COMPANY_WORDS = [
    "Nordic", "Blue", "Granite", "Silver", "Alpine", "Harbor", "Summit", "Cedar", "Atlas",
    "Pioneer", "Evergreen", "Northwind", "Sunrise", "Redwood", "Bright", "Iron", "Golden",
    "Coastal", "Crescent", "Prime", "Vertex", "Oakridge", "Maple", "Falcon", "Orbit",
    "Quantum", "Riverside", "Lakeside", "Highland", "Urban", "Beacon", "Compass", "Meridian",
    "Polar", "Sterling", "Willow", "Zenith", "Aurora", "Cobalt", "Juniper",
]  # fmt: skip
COMPANY_NOUNS = [
    "Logistics", "Foods", "Dynamics", "Systems", "Retail", "Health", "Energy", "Labs",
    "Works", "Partners", "Analytics", "Textiles", "Motors", "Pharma", "Media", "Builders",
    "Outfitters", "Robotics", "Hotels", "Farms", "Software", "Capital", "Studios", "Freight",
    "Clinics", "Instruments", "Supply", "Brewing", "Print", "Optics",
]  # fmt: skip
COMPANY_TAILS = ["", "", "", "", "Group", "International", "& Co", "Solutions", "Holding"]

# Names in several languages, accents included (the search ignores them: customers.search).
FIRST_NAMES = [
    "Anna", "Ben", "Clara", "David", "Elena", "Felix", "Greta", "Hugo", "Ines", "Jonas",
    "Katrin", "Lars", "Maria", "Noah", "Olivia", "Paul", "Rosa", "Samuel", "Tara", "Umar",
    "Vera", "William", "Yara", "Zoë", "Amélie", "Bruno", "Chloé", "Daniel", "Emma", "Finn",
    "Hannah", "Isabel", "João", "Lea", "Marco", "Nina", "Oscar", "Pia", "Quentin", "Sofia",
    "Tomás", "Lucia", "Mateo", "Freya", "Aisha", "Kenji", "Priya", "Liam", "Mila", "Erik",
]  # fmt: skip
LAST_NAMES = [
    "Schmidt", "Smith", "Martin", "Garcia", "Rossi", "Jansen", "Novak", "Andersson",
    "Dubois", "Fischer", "Brown", "López", "Bianchi", "de Vries", "Kowalski", "Berg",
    "Moreau", "Weber", "Taylor", "Fernández", "Romano", "Bakker", "Nowak", "Lindqvist",
    "Laurent", "Wagner", "Wilson", "Martinez", "Ricci", "Visser", "Wójcik", "Nilsson",
    "Bernard", "Becker", "Clarke", "Sánchez", "Greco", "Müller", "Lewandowski", "Østergaard",
    "Łukasiewicz", "Hughes", "Navarro", "Costa", "Peeters", "Huber", "Meyer", "Evans",
]  # fmt: skip
MAIL_PROVIDERS = ["mail.example", "post.example", "inbox.example", "web.example"]
TITLES = [
    "CEO", "CFO", "CTO", "Head of Operations", "IT Manager", "Purchasing Manager",
    "Office Manager", "Marketing Lead", "Sales Director", "Procurement Specialist",
    "Operations Analyst", "Customer Service Lead",
]  # fmt: skip

# sku, name, kind, price, is_active. Prices are per unit, or per month for subscriptions.
PRODUCTS = [
    ("DEMO-CRM-STD", "CRM Standard licence", "product", Decimal("49.00"), True),
    ("DEMO-CRM-PRO", "CRM Professional licence", "product", Decimal("99.00"), True),
    ("DEMO-CRM-ENT", "CRM Enterprise licence", "product", Decimal("249.00"), True),
    ("DEMO-ANALYTICS", "Analytics add-on", "product", Decimal("29.00"), True),
    ("DEMO-MOBILE", "Mobile seat pack (10 seats)", "product", Decimal("39.00"), True),
    ("DEMO-CRM-CLASSIC", "CRM Classic licence (retired)", "product", Decimal("35.00"), False),
    ("DEMO-SCANNER", "Barcode scanner", "product", Decimal("189.00"), True),
    ("DEMO-TABLET", "Rugged field tablet", "product", Decimal("649.00"), True),
    ("DEMO-LABELS", "Label printer supplies", "product", Decimal("59.00"), True),
    ("DEMO-SUPPORT", "Premium support plan", "service", Decimal("149.00"), True),
    ("DEMO-HOSTING", "Managed hosting", "service", Decimal("199.00"), True),
    ("DEMO-ONBOARDING", "Onboarding package", "service", Decimal("1200.00"), True),
    ("DEMO-CONSULTING", "Consulting day", "service", Decimal("950.00"), True),
    ("DEMO-TRAINING", "Training workshop", "service", Decimal("480.00"), True),
]
PRICE = {sku: price for sku, _, _, price, _ in PRODUCTS}
NAME = {sku: name for sku, name, _, _, _ in PRODUCTS}

LICENCES = ["DEMO-CRM-STD", "DEMO-CRM-PRO", "DEMO-CRM-ENT"]
ADD_ONS = ["DEMO-ANALYTICS", "DEMO-MOBILE"]
SERVICE_PLANS = ["DEMO-SUPPORT", "DEMO-HOSTING"]
LEGACY = "DEMO-CRM-CLASSIC"
# One-off purchases: (sku, most units in one order).
GOODS = [("DEMO-SCANNER", 5), ("DEMO-TABLET", 3), ("DEMO-LABELS", 10), ("DEMO-TRAINING", 2)]
# What a customer with a buying rhythm reorders: consumables and small kit.
SUPPLIES = [("DEMO-LABELS", 6), ("DEMO-SCANNER", 2)]
BIG_TICKETS = [("DEMO-CONSULTING", 5), ("DEMO-TABLET", 8), ("DEMO-ONBOARDING", 2)]

SUBJECTS = {
    "support": [
        "Cannot export the monthly report",
        "Login problems after password reset",
        "Sync with the mobile app fails",
        "Question about user permissions",
        "Invoice shows the wrong VAT number",
        "Import stops at row 1,204",
        "Dashboard loads slowly",
        "Scanner not recognised",
    ],
    "webinar": [
        "Webinar: getting started",
        "Webinar: reporting deep dive",
        "Webinar: what's new this quarter",
        "Webinar: automating follow-ups",
    ],
    "meeting": [
        "Quarterly business review",
        "Roadmap presentation",
        "Renewal discussion",
        "Requirements workshop",
        "Kick-off meeting",
    ],
    "visit": ["On-site visit", "Visit at the trade fair booth", "Site survey", "Customer visit"],
    "email_in": [
        "Question about our contract",
        "Request for a quote",
        "Feedback on the new release",
        "Adding more users",
        "Change of billing address",
    ],
    "email_out": [
        "Monthly newsletter",
        "Follow-up on our call",
        "Your quote",
        "Invitation to our user conference",
        "Tips for your team",
        "We miss you: what's new",
    ],
    "call_in": ["Called about pricing", "Called with a billing question", "Asked for a demo"],
    "call_out": ["Check-in call", "Renewal reminder call", "Follow-up call (voicemail)"],
    "chat": ["Chat: how do I add a field?", "Chat: trial questions", "Chat: reset my password"],
    "social_in": ["Mentioned us on LinkedIn", "Replied to our post", "Direct message on X"],
    "social_out": ["Shared a case study with them", "Replied to their post"],
    "note": [
        "Decision maker changed; update the org chart",
        "Budget cycle starts in Q3",
        "Prefers e-mail over calls",
        "Evaluating a competitor",
        "Happy with the service; ask for a referral",
    ],
    "login": ["Signed in"],
    "feature_use": [
        "Used reports",
        "Used the import tool",
        "Used the mobile app",
        "Set up an automation",
        "Shared a dashboard",
    ],
}
