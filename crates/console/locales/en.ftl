# SmartBorder console, English. A new locale is a copy of this file named after its language
# tag (kk.ftl, ky.ftl, uz.ftl, az.ftl, ka.ftl, hy.ftl, tg.ftl, tk.ftl) with the texts translated.

skip-to-content = Skip to content
navigation = Main navigation
language = Language
nav-arrivals = Pre-arrival
nav-movements = Movements
nav-notifications = Notifications
nav-accounts = Accounts
unread = Unread notifications
sign-in = Sign in
sign-out = Sign out
login = Login
password = Password
sign-in-refused = Wrong login or password.
sign-in-locked = Too many failed attempts: the account is locked until { $until }.
csrf-refused = The form has expired or did not come from this console. Reload the page and try again.
refused = Refused
back-home = Back to the console
store-unavailable = The database did not answer
unknown-language = The console does not speak "{ $lang }".

role-officer = Border officer
role-supervisor = Supervisor
role-analyst = Risk analyst
role-coordinator = Corridor coordinator
role-admin = Administrator

status = Status
route = Route
last-event = Latest event
no-movements = No movements match.
page-of = Shown: { $count }
pages = Pages
first-page = First page
next-page = Next page
any = Any
apply-filters = Apply
filter-status = Status
filter-office = Office on the route
filter-country = Country on the route
filter-lodged-from = Lodged from
filter-lodged-to = Lodged to (inclusive)
filter-order = Order
order-newest = Newest first
order-oldest = Oldest first
filter-invalid = { $field }: found "{ $found }", expected for example { $expected }.
arrivals-intro = Movements released for transit and on their way to your offices (pre-arrival information). New ones appear here as they are released.

status-lodged = Lodged
status-rejected = Rejected
status-accepted = Accepted
status-not_released = Not released
status-released_for_transit = Released for transit
status-invalidated = Invalidated
status-arrived_at_destination = Arrived at destination
status-unloading_remarks = Unloading remarks
status-goods_released = Goods released
status-written_off = Written off
status-under_enquiry = Under enquiry
status-recovery = Recovery

event-amended = Declaration amended (IE013)
event-rejected = Declaration rejected (IE056)
event-accepted = Accepted, MRN allocated (IE028)
event-not_released = Not released (IE051)
event-released_for_transit = Released for transit (IE029)
event-invalidated = Invalidated (IE009)
event-invalidation_requested = Invalidation requested (IE014)
event-invalidation_decided = Invalidation decided (IE009)
event-anticipated_transit_record = Anticipated transit record (IE050)
event-arrival_at_transit = Arrival at the office of transit
event-frontier_crossed = Frontier crossed (IE118)
event-incident = Incident en route (IE180)
event-arrival_at_destination = Arrival at destination (IE007)
event-unloading_remarks = Control at destination: unloading remarks (IE044)
event-goods_released = Goods released (IE025)
event-written_off = Written off (IE045)
event-enquiry_opened = Enquiry opened (IE140)
event-recovery_started = Recovery started

place-departure = office of departure
place-transit = office of transit
place-destination = office of destination
events-here = { $count ->
    [one] one event
   *[other] { $count } events
}
limit-date = Limit date
timeline = Timeline
downloads = NCTS messages
download-declaration = Transit declaration as lodged (CC015C)
download-release = Release for transit (CC029C)
lodged-as-json = Lodged through the JSON API: there is no NCTS declaration to download.
no-such-movement = No movement with MRN { $mrn }.
record-event = Record an event
office = Office
event = Event
event-time = When (local time of the office)
event-time-help = Leave empty to record the current time.
event-description = Description or reason (incident, not released)
event-conform = Result of the control (unloading remarks)
conform-yes = Conform: no discrepancy found
conform-no = Not conform: discrepancies found
record = Record
not-your-office = You do not record events at office { $office }.
form-description-required = Give a description or a reason.
form-kind-invalid = "{ $found }" is not an event recorded on this form.
form-time-invalid = The time "{ $found }" does not read or does not exist at this office (expected YYYY-MM-DDTHH:MM).
form-limit-date = A release for transit needs a limit date (expected YYYY-MM-DD, found "{ $found }").
form-unreadable = The form could not be read.

pre-arrival = pre-arrival
notification = Notification
audit-checkpoint = Signed audit checkpoint
no-notifications = No notifications yet.

admins-only = Only an administration's administrator manages accounts.
role = Role
offices = Offices
offices-help = Office reference numbers, separated by commas (officers only).
account-state = State
account-active = Active
account-disabled = Disabled
actions = Actions
disable = Disable
disable-account = Disable account { $login }
create-account = Create an account
account-created = Account { $login } created.
unknown-role = Unknown role "{ $role }".
unknown-account = No account { $login } in your administration.
