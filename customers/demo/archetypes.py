"""Demo customers as plain values, their histories shaped to land in every status and type.

No database here. A `Draft` is one customer with contacts, subscriptions and events; every
date is a number of days before today (0 is today, negative is in the future), so the data
is current whatever day it is loaded. `DemoGenerator(seed)` answers the same drafts for the
same seed, in the same order, whatever the batch sizes the caller asks for.

Each archetype aims at a status (and some types; docs/definitions.md) under the DEFAULT
rules (active <= 30 days, at risk <= 60, inactive <= 90, onboarding 30, loyal 3 purchases in 365
days with 180 days of tenure or a live subscription of 180 days, support 3 in 90 days,
contact 2 inbound conversations in 90 days, recent buyer 30 days). The first customers
are one "showcase" of each archetype, placed so that the recompute of today differs from
the one of LOOKBACK_DAYS ago (seed_demo runs both): every default alert rule has a customer
to fire for, even in a small data set.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from customers import kinds
from customers.search import fold

from . import catalog

HISTORY_DAYS = 540  # 18 months of interactions
# Stretches every mean gap between events: about 15 interactions per customer on
# average, which keeps 100,000 customers loadable (and recomputable) in minutes.
PACE = 5.0
TENURE_DAYS = 1095  # customers joined over the last 3 years
# seed_demo computes the base as of this many days ago, then as of today: the status moves
# in between are what the alert rules fire on.
LOOKBACK_DAYS = 7
INBOUND, OUTBOUND = kinds.INBOUND, kinds.OUTBOUND
CENT = Decimal("0.01")


@dataclass(slots=True)
class SubscriptionDraft:
    sku: str
    status: str
    started: int  # days ago
    ended: int | None  # days ago (negative: in the future)
    amount: Decimal
    interval: str
    changed: float  # days ago of its last change (fractions: hours)


@dataclass(slots=True)
class Draft:
    number: int
    archetype: str
    name: str
    kind: str
    email: str
    phone: str
    country: str
    industry: str
    since: int  # customer_since, days ago
    owner: int | None  # index into the caller's owners; None: unowned
    archived: int | None = None  # days ago it was archived; None: not archived
    # (first_name, last_name, email, phone, title, is_primary, marketing_opt_in)
    contacts: list[tuple] = field(default_factory=list)
    subscriptions: list[SubscriptionDraft] = field(default_factory=list)
    # (days_ago, day_fraction, kind, direction, amount, contact_index, subject, external_id,
    #  manual): manual events are logged by a person (the owner), the others by systems.
    events: list[tuple] = field(default_factory=list)


class Story:
    """Writes one customer's events; `every` is a mean number of days between two events."""

    def __init__(self, rng: random.Random, draft: Draft):
        self.rng = rng
        self.draft = draft
        self.orders = 0
        self.basket = None  # how big this customer's orders run (drawn at the first order)

    @property
    def start(self) -> int:
        """The oldest day events may have: 18 months back, never before customer_since."""
        return min(self.draft.since, HISTORY_DAYS)

    def days(self, newest: int, oldest: int, every: float) -> list[int]:
        """Days from `newest` back to `oldest` (newest always included when in range)."""
        result = []
        day = max(newest, 0)
        while day <= oldest:
            result.append(day)
            day += 1 + int(self.rng.expovariate(1 / (every * PACE)))
        return result

    def event(
        self, day, kind, direction=INBOUND, *, amount=None, subject=None, ref="", person=True
    ):
        rng = self.rng
        contact = None
        if person and self.draft.contacts and rng.random() < 0.8:
            contact = rng.randrange(len(self.draft.contacts))
        key = kind
        if kind in (kinds.EMAIL, kinds.CALL, kinds.SOCIAL):
            key = f"{kind}_in" if direction == INBOUND else f"{kind}_out"
        if subject is None:
            subject = rng.choice(catalog.SUBJECTS[key])
        manual = kind in ("meeting", "visit", "note", "call", "social") or (
            kind == "email" and direction == OUTBOUND
        )
        self.draft.events.append(
            (day, rng.random(), kind, direction, amount, contact, subject, ref, manual)
        )

    # --- kinds of behaviour -------------------------------------------------------------------

    def usage(self, newest, oldest, every):
        for day in self.days(newest, oldest, every):
            kind = kinds.LOGIN if self.rng.random() < 0.6 else kinds.FEATURE_USE
            self.event(day, kind, person=kind == kinds.FEATURE_USE)

    def purchase(self, day, goods=catalog.GOODS):
        if self.basket is None:
            # Customers differ in what an order is worth to them, not only orders in what
            # they hold: the spend model of the predictions (Gamma-Gamma) needs that spread.
            self.basket = self.rng.lognormvariate(0, 0.7)
        sku, most = self.rng.choice(goods)
        units = max(1, round(self.rng.randint(1, most) * self.basket))
        self.orders += 1
        amount = (catalog.PRICE[sku] * units).quantize(CENT)
        self.event(
            day,
            kinds.PURCHASE,
            amount=amount,
            subject=f"Order: {units} x {catalog.NAME[sku]}",
            ref=f"INV-{self.draft.number:06d}-{self.orders:03d}",
        )
        return amount

    def purchases(self, newest, oldest, every, goods=catalog.GOODS):
        for day in self.days(newest, oldest, every):
            self.purchase(day, goods)

    def regular_purchases(self, newest, oldest, gap):
        """Purchases about every `gap` days (not stretched by PACE): a customer with a buying
        rhythm, whose silence since `newest` the prediction models read against it. They
        reorder supplies: small orders, so a rhythm alone does not make a high-value
        customer."""
        self.purchases(newest, oldest, gap / PACE, catalog.SUPPLIES)

    def big_spender(self, newest, oldest):
        """Orders worth at least 5,000 within [newest, oldest] (the high-value alert's bar)."""
        total = Decimal(0)
        while total < Decimal("5200"):
            total += self.purchase(self.rng.randint(newest, oldest), catalog.BIG_TICKETS)

    def refund(self):
        """Part of the latest order back, some days after it (a refund is no activity)."""
        orders = [e for e in self.draft.events if e[2] == kinds.PURCHASE]
        if not orders:
            return
        day, amount = orders[-1][0], orders[-1][4]
        back = (amount * Decimal(self.rng.choice(["0.25", "0.5", "1"]))).quantize(CENT)
        self.event(
            max(0, day - self.rng.randint(1, 20)),
            kinds.REFUND,
            amount=max(back, CENT),
            subject="Credit note: returned goods",
            ref=f"CN-{self.draft.number:06d}-{self.orders:03d}",
        )

    def conversations(self, newest, oldest, every):
        """The customer reaches out: inbound e-mails, calls, chats and social messages."""
        for day in self.days(newest, oldest, every):
            kind = self.rng.choice([kinds.EMAIL, kinds.EMAIL, kinds.CALL, kinds.CHAT, kinds.SOCIAL])
            self.event(day, kind, INBOUND)

    def outreach(self, newest, oldest, every):
        """We reach out (no customer activity): outbound e-mails, calls, social replies."""
        for day in self.days(newest, oldest, every):
            kind = self.rng.choice([kinds.EMAIL] * 3 + [kinds.CALL, kinds.SOCIAL])
            self.event(day, kind, OUTBOUND)

    def meetings(self, newest, oldest, every):
        for day in self.days(newest, oldest, every):
            if self.rng.random() < 0.7:
                self.event(day, kinds.MEETING, self.rng.choice([OUTBOUND, INBOUND]))
            else:
                self.event(day, kinds.VISIT, self.rng.choice([OUTBOUND, OUTBOUND, INBOUND]))

    def support(self, newest, oldest, every):
        for day in self.days(newest, oldest, every):
            self.event(day, kinds.SUPPORT)

    def webinars(self, newest, oldest, every):
        for day in self.days(newest, oldest, every):
            self.event(day, kinds.WEBINAR, person=False)

    def notes(self, newest, oldest, every):
        for day in self.days(newest, oldest, every):
            self.event(day, kinds.NOTE, OUTBOUND, person=False)

    def subscribe(self, sku, status="active", *, started, ended=None, changed=None, interval=None):
        rng = self.rng
        interval = interval or ("year" if rng.random() < 0.4 else "month")
        price = catalog.PRICE[sku]
        amount = price * 10 if interval == "year" else price  # a year costs ten months
        self.draft.subscriptions.append(
            SubscriptionDraft(
                sku=sku,
                status=status,
                started=started,
                ended=ended,
                amount=amount.quantize(CENT),
                interval=interval,
                changed=float(changed if changed is not None else ended if ended else started),
            )
        )


# --- the archetypes ---------------------------------------------------------------------------
# Each takes (story, rng, showcase) and sets since, subscriptions and events. "L" is the
# days since the last customer activity: the archetypes that aim at a status boundary put
# every activity at L or before it, and only non-activity (outreach, notes, refunds) after.


def onboarding(s: Story, rng, showcase):
    """new: joined within the onboarding window, no activity yet (a welcome e-mail is ours)."""
    since = s.draft.since = rng.randint(0, LOOKBACK_DAYS - 1) if showcase else rng.randint(0, 28)
    s.event(rng.randint(0, since), kinds.EMAIL, OUTBOUND, subject="Welcome aboard: first steps")
    s.notes(since, since, 1)
    if showcase or rng.random() < 0.5:
        s.subscribe(rng.choice(catalog.LICENCES), "trial", started=since, interval="month")
    if rng.random() < 0.3:
        s.event(rng.randint(0, since), kinds.CALL, OUTBOUND, subject="Onboarding call (no answer)")


def trial(s: Story, rng, showcase):
    """active, recently joined: trying the product (a trial is no live subscription)."""
    since = s.draft.since = rng.randint(3, 45)
    licence = rng.choice(catalog.LICENCES)
    if since >= 20 and (showcase or rng.random() < 0.4):
        # converted: the trial expired into a paid subscription two weeks in
        s.subscribe(licence, "expired", started=since, ended=since - 14, interval="month")
        s.subscribe(licence, "active", started=since - 14)
    else:
        s.subscribe(licence, "trial", started=since, interval="month")
    s.usage(rng.randint(0, min(5, since)), since, rng.randint(1, 3))
    s.webinars(rng.randint(0, since), since, 30)
    s.event(rng.randint(0, since), kinds.CHAT)
    s.event(since, kinds.EMAIL, OUTBOUND, subject="Welcome to your trial")


def power_user(s: Story, rng, showcase):
    """active, loyal (a live subscription for 180+ days), product subscriber, often a recent
    buyer and engaged contact."""
    since = s.draft.since = rng.randint(200, TENURE_DAYS)
    start = s.start
    started = since - rng.randint(0, 15)
    past_due = showcase or rng.random() < 0.12
    s.subscribe(rng.choice(catalog.LICENCES), "past_due" if past_due else "active", started=started)
    if rng.random() < 0.3:
        s.subscribe(rng.choice(catalog.ADD_ONS), started=rng.randint(30, started))
    s.usage(rng.randint(0, 4), start, rng.randint(5, 10))
    if showcase:  # an engaged contact: two conversations within 90 days
        s.event(rng.randint(0, 40), kinds.EMAIL)
        s.event(rng.randint(41, 85), kinds.CALL)
    s.purchases(rng.randint(1, 25), start, rng.randint(45, 90))
    s.conversations(rng.randint(0, 45), start, rng.randint(25, 40))
    s.meetings(rng.randint(10, 90), start, 90)
    s.outreach(rng.randint(0, 30), start, 60)
    s.support(rng.randint(5, 200), start, 120)
    s.notes(rng.randint(0, 60), start, 150)
    if showcase or rng.random() < 0.1:
        s.refund()


def steady_buyer(s: Story, rng, showcase):
    """active, loyal by purchases (3+ in a year, first 180+ days ago, about every 20-60 days),
    recent buyer.

    The showcase made its first purchase 180 days ago or a little more: not loyal at the
    look-back, loyal now.
    """
    since = s.draft.since = rng.randint(250, TENURE_DAYS)
    if showcase:
        first = rng.randint(180, 180 + LOOKBACK_DAYS - 1)
        for day in (first, rng.randint(40, 170), rng.randint(1, 10)):
            s.purchase(day)
    else:
        s.regular_purchases(rng.randint(0, 20), s.start, rng.randint(20, 60))
    if not showcase and rng.random() < 0.2:
        s.subscribe(catalog.LEGACY, "expired", started=since, ended=rng.randint(200, since - 30))
    s.conversations(rng.randint(5, 60), s.start, 45)
    s.outreach(rng.randint(0, 20), s.start, 30)
    s.meetings(rng.randint(20, 120), s.start, 90)


def service_client(s: Story, rng, showcase):
    """active, service subscriber, usually an engaged contact: meetings, visits, calls."""
    since = s.draft.since = rng.randint(60, TENURE_DAYS)
    s.subscribe(rng.choice(catalog.SERVICE_PLANS), started=since - rng.randint(0, 20))
    s.meetings(rng.randint(0, 20), s.start, rng.randint(25, 45))
    s.conversations(rng.randint(0, 30), s.start, 15)
    s.purchases(rng.randint(30, 120), s.start, 150, [("DEMO-CONSULTING", 3), ("DEMO-TRAINING", 2)])
    s.outreach(rng.randint(0, 30), s.start, 45)
    s.notes(rng.randint(0, 90), s.start, 120)


def support_heavy(s: Story, rng, showcase):
    """active, support (3+ support requests in 90 days); some spike (5+ in two weeks)."""
    since = s.draft.since = rng.randint(90, TENURE_DAYS)
    if rng.random() < 0.6:
        s.subscribe(rng.choice(catalog.LICENCES), started=since - rng.randint(0, 10))
    if showcase or rng.random() < 0.1:
        for _ in range(rng.randint(5, 7)):
            s.event(rng.randint(0, 12), kinds.SUPPORT)
    s.support(rng.randint(0, 10), 75, rng.randint(8, 14))
    while sum(1 for e in s.draft.events if e[2] == kinds.SUPPORT) < 3:
        s.event(rng.randint(0, 80), kinds.SUPPORT)
    s.support(90, s.start, 40)
    s.usage(rng.randint(0, 10), s.start, 8)
    s.conversations(rng.randint(0, 30), 90, 20)
    s.notes(rng.randint(0, 30), s.start, 90)


def casual(s: Story, rng, showcase):
    """active, few types: the odd login, webinars, social messages; some bought lately."""
    s.draft.since = rng.randint(31, TENURE_DAYS)
    last = rng.randint(0, 28)
    s.usage(last, s.start, rng.randint(15, 40))
    s.webinars(rng.randint(last, 120), s.start, 90)
    for day in s.days(rng.randint(last, 90), s.start, 60):
        s.event(day, kinds.SOCIAL, INBOUND)
    s.outreach(rng.randint(0, 30), s.start, 90)
    if showcase or rng.random() < 0.3:
        s.purchase(rng.randint(last, 29))
    s.purchases(rng.randint(60, 200), s.start, 120)


def reactivated(s: Story, rng, showcase):
    """active and reactivated: quiet for months (over 60 days), back within the last 25."""
    s.draft.since = rng.randint(250, TENURE_DAYS)
    gone = rng.randint(100, s.start - 20)  # the last activity before the break
    back = rng.randint(1, 25)  # the first activity after it
    s.event(gone, kinds.LOGIN, person=False)
    s.usage(gone, s.start, 10)
    s.purchases(gone + rng.randint(0, 30), s.start, 45)
    s.conversations(gone + rng.randint(0, 30), s.start, 40)
    s.outreach(back + 5, gone - 5, 20)  # the win-back campaign
    if rng.random() < 0.5:
        s.purchase(back)
    else:
        s.event(back, kinds.CALL, INBOUND, subject="Called to restart the account")
    s.usage(rng.randint(0, back), back, 3)


def passive(s: Story, rng, showcase):
    """passive: a live subscription but no activity for over 30 days (pays, does not use)."""
    since = s.draft.since = rng.randint(60, TENURE_DAYS)
    last = rng.randint(31, 30 + LOOKBACK_DAYS) if showcase else rng.randint(32, min(240, s.start))
    sku = rng.choice(catalog.LICENCES + catalog.ADD_ONS + catalog.SERVICE_PLANS)
    past_due = showcase or rng.random() < 0.15
    s.subscribe(sku, "past_due" if past_due else "active", started=since - rng.randint(0, 10))
    s.event(last, kinds.LOGIN, person=False)
    s.usage(last, s.start, rng.randint(6, 15))
    s.outreach(rng.randint(0, 10), last - 1, 15)


def cancelling(s: Story, rng, showcase):
    """passive, and cancelled a few hours ago: the paid period runs out in a few weeks."""
    since = s.draft.since = rng.randint(90, TENURE_DAYS)
    last = rng.randint(35, min(120, s.start))
    s.subscribe(
        rng.choice(catalog.LICENCES + catalog.SERVICE_PLANS),
        "cancelled",
        started=since - rng.randint(0, 10),
        ended=-rng.randint(5, 25),
        changed=rng.uniform(0.05, 0.8),
        interval="month",
    )
    s.event(last, kinds.FEATURE_USE)
    s.usage(last, s.start, rng.randint(6, 15))
    s.support(last + rng.randint(0, 10), s.start, 60)
    s.outreach(rng.randint(0, 10), last - 1, 20)


def cooling(s: Story, rng, showcase):
    """at_risk: last activity 31-60 days ago, nothing live (some paused a subscription); half
    bought regularly until then (the prediction mostly still expects them back)."""
    since = s.draft.since = rng.randint(90, TENURE_DAYS)
    last = rng.randint(31, 30 + LOOKBACK_DAYS) if showcase else rng.randint(31, 60)
    if showcase or rng.random() < 0.25:
        s.subscribe(rng.choice(catalog.LICENCES), "paused", started=since - rng.randint(0, 10))
    s.event(last, kinds.LOGIN, person=False)
    s.usage(last, s.start, rng.randint(5, 14))
    if rng.random() < 0.5:  # a regular buyer until lately
        s.regular_purchases(
            last + rng.randint(0, 10), min(s.start, last + 300), rng.randint(15, 40)
        )
    else:
        s.purchases(last + rng.randint(0, 30), s.start, 60)
    if rng.random() < 0.05:
        s.big_spender(last, min(300, s.start))
    s.outreach(rng.randint(0, 10), last - 1, 12)


def fading(s: Story, rng, showcase):
    """inactive: last activity 61-90 days ago; some subscriptions ended around then; half
    bought regularly until then."""
    since = s.draft.since = rng.randint(120, TENURE_DAYS)
    last = rng.randint(61, 60 + LOOKBACK_DAYS) if showcase else rng.randint(61, 90)
    if rng.random() < 0.3:
        status = rng.choice(["cancelled", "expired"])
        ended = max(2, last + rng.randint(-10, 30))
        s.subscribe(rng.choice(catalog.LICENCES), status, started=since, ended=ended)
    s.event(last, kinds.SUPPORT)
    s.usage(last, s.start, rng.randint(5, 14))
    if rng.random() < 0.5:  # a regular buyer until a few months ago
        s.regular_purchases(
            last + rng.randint(0, 10), min(s.start, last + 300), rng.randint(15, 40)
        )
    else:
        s.purchases(last + rng.randint(0, 20), s.start, 50)
    if showcase or rng.random() < 0.08:
        s.big_spender(last, min(300, s.start))
    s.outreach(rng.randint(0, 10), last - 1, 15)
    s.notes(rng.randint(0, last), last, 60)


def churned(s: Story, rng, showcase):
    """churned: no activity for over 90 days, subscriptions cancelled or expired. Their
    purchases end at the last activity: a regular rhythm, a short burst, or a slow trickle
    (the first two make the low P(alive) of the predictions)."""
    since = s.draft.since = rng.randint(150, TENURE_DAYS)
    last = rng.randint(91, 90 + LOOKBACK_DAYS) if showcase else rng.randint(91, s.start)
    if rng.random() < 0.6:
        started = since - rng.randint(0, 30)
        ended = min(started, max(2, last + rng.randint(-30, 30)))
        status = "cancelled" if rng.random() < 0.65 else "expired"
        sku = rng.choice(catalog.LICENCES + catalog.SERVICE_PLANS)
        s.subscribe(sku, status, started=started, ended=ended)
    if rng.random() < 0.3:
        s.purchase(last)
    else:
        s.event(last, kinds.LOGIN, person=False)
    s.usage(last, s.start, rng.randint(6, 20))
    habit = rng.random()
    if habit < 0.4:  # a regular buyer once, silent for far longer than their rhythm
        s.regular_purchases(
            last + rng.randint(0, 10), min(s.start, last + 360), rng.randint(15, 45)
        )
    elif habit < 0.7:  # a few orders in quick succession, then gone
        day = last + rng.randint(0, 10)
        for _ in range(rng.randint(2, 4)):
            if day <= s.start:
                s.purchase(day)
            day += rng.randint(4, 20)
    else:
        s.purchases(last + rng.randint(0, 60), s.start, 70)
    if last <= 300 and rng.random() < 0.04:
        s.big_spender(last, min(330, s.start))
    s.outreach(rng.randint(0, 30), last - 1, 30)


def ghost(s: Story, rng, showcase):
    """Never active at all: at risk, inactive or churned by the days since joining."""
    since = s.draft.since = rng.randint(31, 400)
    s.outreach(rng.randint(0, 20), since, 30)
    s.notes(rng.randint(0, since), since, 200)


# (archetype, weight): the showcases come first, in this order.
ARCHETYPES = [
    (onboarding, 3),
    (trial, 4),
    (power_user, 12),
    (steady_buyer, 10),
    (service_client, 7),
    (support_heavy, 6),
    (casual, 10),
    (reactivated, 4),
    (passive, 7),
    (cancelling, 0.5),
    (cooling, 7),
    (fading, 6),
    (churned, 13),
    (ghost, 2),
]
PERSON_SHARE = {"casual": 0.7, "trial": 0.4, "onboarding": 0.35, "ghost": 0.5}
# Showcases whose alerts nobody owns: they go to the customer success team.
UNOWNED_SHOWCASES = {"onboarding", "passive", "cooling", "fading", "churned"}
UNOWNED_SHARE = 0.2
ARCHIVED_SHARE = 0.15  # of churned customers


class DemoGenerator:
    """Drafts for customer numbers 1, 2, 3, ... from one seeded random stream."""

    def __init__(self, *, seed: int, owners: int):
        self.rng = random.Random(seed)
        self.owners = owners
        self.archived_any = False
        self._functions = [f for f, _ in ARCHETYPES]
        self._weights = [w for _, w in ARCHETYPES]

    def draft(self, number: int) -> Draft:
        rng = self.rng
        showcase = number <= len(ARCHETYPES)
        function = (
            self._functions[number - 1]
            if showcase
            else rng.choices(self._functions, self._weights)[0]
        )
        archetype = function.__name__
        person = rng.random() < PERSON_SHARE.get(archetype, 0.25)
        draft = self._identity(number, archetype, person)
        if showcase:
            unowned = archetype in UNOWNED_SHOWCASES
            draft.owner = None if unowned or not self.owners else number % self.owners
        story = Story(rng, draft)
        if not person:
            self._contacts(draft)
        function(story, rng, showcase)
        # A few churned customers are archived (a month or two after their last activity).
        if (archetype == "churned" and not showcase) and (
            rng.random() < ARCHIVED_SHARE or not self.archived_any
        ):
            draft.archived = rng.randint(1, 60)
            self.archived_any = True
        draft.events.sort(key=lambda e: (-e[0], e[1]))
        return draft

    def _identity(self, number, archetype, person) -> Draft:
        rng = self.rng
        code, _, suffix, dial = rng.choices(catalog.COUNTRIES, [c[1] for c in catalog.COUNTRIES])[0]
        phone = f"{dial} {rng.randint(20, 99)} {rng.randint(100000, 9999999)}"
        if person:
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            name = f"{first} {last}"
            email = f"{_slug(first)}.{_slug(last)}{rng.randint(1, 99)}@" + rng.choice(
                catalog.MAIL_PROVIDERS
            )
            industry = ""
        else:
            words = [rng.choice(catalog.COMPANY_WORDS), rng.choice(catalog.COMPANY_NOUNS)]
            tail = rng.choice(catalog.COMPANY_TAILS)
            name = " ".join([*words, *([tail] if tail else []), suffix])
            mailbox = rng.choice(["info", "hello", "office", "contact"])
            email = f"{mailbox}@{_slug(' '.join(words))}.example"
            industry = rng.choices(*zip(*catalog.INDUSTRIES, strict=True))[0]
        owner = None
        if self.owners and rng.random() >= UNOWNED_SHARE:
            owner = rng.randrange(self.owners)
        return Draft(
            number=number,
            archetype=archetype,
            name=name,
            kind="person" if person else "company",
            email=email,
            phone=phone,
            country=code,
            industry=industry,
            since=0,
            owner=owner,
        )

    def _contacts(self, draft: Draft):
        rng = self.rng
        domain = draft.email.split("@", 1)[1]
        for index in range(rng.choice([1, 1, 2, 2, 3, 4])):
            first, last = rng.choice(catalog.FIRST_NAMES), rng.choice(catalog.LAST_NAMES)
            draft.contacts.append(
                (
                    first,
                    last,
                    f"{_slug(first)}.{_slug(last)}@{domain}",
                    draft.phone[:-2] + f"{rng.randint(10, 99)}",
                    rng.choice(catalog.TITLES),
                    index == 0,
                    rng.random() < 0.4,
                )
            )


def _slug(text: str) -> str:
    """An e-mail's ASCII spelling of a name: "Łukasiewicz" -> "lukasiewicz"."""
    return "".join(
        ch for ch in fold(text).replace(" ", "-") if ch.isascii() and (ch.isalnum() or ch == "-")
    )
