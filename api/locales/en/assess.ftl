# The self-assessment pages (/assess/...). Instrument texts (questions, options, tiers,
# gates) are not here: they are data beside the instrument, in analytics/instruments/texts.

site-name = Readiness
page-title = { $survey } – self-assessment
skip-link = Skip to the questionnaire
language-switch = Language
language-en = English
language-zh-Hans = 简体中文

intro-title = Should your firm customise its own AI model?
intro-body = Answer { $questions } short questions about your business, in { $steps } steps. You get your readiness tier at once, an action plan and a comparison with similar firms. Your answers are confidential: figures about other firms are only shown for groups large enough that no firm can be singled out.
intro-time = It takes about five minutes. You can stop and continue later.

step-progress = Step { $step } of { $steps }
required-note = All questions are required unless marked optional.
optional = (optional)

segment-title = About your business
segment-hint = Used only to compare you with similar firms.
field-industry = Industry (NACE section)
field-industry-choose = Choose an industry
field-size-band = Number of employees
size-micro = 1 to 9 (micro)
size-small = 10 to 49 (small)
size-medium = 50 to 249 (medium)
size-large = 250 or more (large)
field-country = Country
field-country-choose = Choose a country
field-region = Region
field-region-hint = ISO 3166-2 code, for example DE-BY or CN-GD.

nace-A = Agriculture, forestry and fishing
nace-B = Mining and quarrying
nace-C = Manufacturing
nace-D = Electricity, gas, steam and air conditioning supply
nace-E = Water supply, sewerage, waste management and remediation
nace-F = Construction
nace-G = Wholesale and retail trade; repair of motor vehicles
nace-H = Transportation and storage
nace-I = Accommodation and food service activities
nace-J = Information and communication
nace-K = Financial and insurance activities
nace-L = Real estate activities
nace-M = Professional, scientific and technical activities
nace-N = Administrative and support service activities
nace-O = Public administration and defence; compulsory social security
nace-P = Education
nace-Q = Human health and social work activities
nace-R = Arts, entertainment and recreation
nace-S = Other service activities
nace-T = Activities of households as employers
nace-U = Activities of extraterritorial organisations and bodies

button-start = Start
button-next = Next
button-back = Back
button-save = Save and continue later
button-submit = See my result

title-error = Error: { $title }
errors-title = There is a problem
error-required = Choose an answer for “{ $field }”.
error-invalid = The answer to “{ $field }” is not one of the choices; choose again.
error-region = Enter the region as an ISO 3166-2 code of the chosen country (for example DE-BY), or leave it empty.

expired-form-title = This page has expired
expired-form-body = For your security the form could not be accepted. Your saved answers are kept; open the page again and repeat the last step.
erased-title = These answers can no longer be submitted
erased-body = The firm was erased from the survey on request. Start a new assessment if you want a new result.

saved-title = Your answers are saved
saved-body = Open this link on any device to continue where you stopped. It works for 30 days; anyone with the link can see your answers, so keep it to yourself.
saved-continue = Continue now

link-invalid-title = This link cannot be used
link-invalid-body = It has expired or is not complete. Ask whoever sent it for a new one, or start a new assessment.
link-invalid-start = Start a new assessment
not-public-title = This assessment is by invitation only
not-public-body = Ask the organisation that runs it for a personal link.

result-title = Your result
result-tier = Your readiness tier
result-tier-of = Tier { $rank } of { $tiers }
result-ready = Ready to customise a model
result-stay = Stay on vendor models for now
result-advice = What this means
result-scores = Your scores by dimension
result-scores-caption = Scores from 0 to 100, from your answers.
result-print = To keep a copy, print this page or save it as PDF from your browser.
result-submitted = Submitted { $date }

plan-title = Your action plan
plan-intro = To reach “{ $tier }”, work on these points:
plan-top = You are at the highest tier. Keep your test cases current and review the results regularly.
plan-your-answer = Your answer
plan-enough = Enough to pass
plan-no-answer = not answered
plan-or = Any one of these is enough:
plan-next-step = Next step

benchmark-title = How you compare
benchmark-group-industry_size_band_country = Firms of your industry and size in your country
benchmark-group-industry_size_band = Firms of your industry and size
benchmark-group-size_band = Firms of your size
benchmark-group-everyone = All firms that took the assessment
benchmark-peers = Compared with { $peers } other firms (the latest answers of each).
benchmark-none = Not enough comparable firms have answered yet to show a comparison without revealing any single firm. Check again later.
benchmark-tiers = Share of these firms at each tier
benchmark-dimension = Dimension
benchmark-your-score = Your score
benchmark-percentile = Ahead of
benchmark-percentile-value = { $percentile } %
benchmark-note = Counts are rounded and slightly perturbed to protect the firms that answered.
