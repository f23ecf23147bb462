"""A small generated text set: support messages sent to the makers of a frown-detector app.

Each message must be routed to one of three teams. Labelling thousands of messages by hand is
slow, so this set is used to practise *weak supervision*: you write small rules (labelling
functions) that vote for a team or abstain, and combine their votes. The true team of every
message is known, so you can measure how good the rules are.

Messages are built from templates with many wordings, random capitalisation, greetings, sign-offs
and filler. A share of them also mention a second topic in passing ("I already reset my
password" in a message about a crash), which makes simple keyword rules disagree, and a few are
too vague for any rule ("something is wrong, please call me").

Typical use::

    from course.textset import make_support_messages, LABEL_NAMES, ABSTAIN
    msgs = make_support_messages(500, seed=0)
    msgs.head()        # columns: text, label (0, 1, 2), team ("billing", "technical", "account")

Everything is deterministic from ``seed``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from course.seeding import generator
from course.validation import check_count, check_seed, seed_by_keyword

__all__ = ["LABEL_NAMES", "BILLING", "TECHNICAL", "ACCOUNT", "ABSTAIN", "make_support_messages"]

#: Team names, indexed by label.
LABEL_NAMES = ("billing", "technical", "account")
BILLING, TECHNICAL, ACCOUNT = 0, 1, 2
#: What a labelling function returns when it has no opinion.
ABSTAIN = -1

# share of each team among the messages
_TEAM_PROBS = (0.35, 0.40, 0.25)
# chance that a message also mentions another topic in passing
_ASIDE_RATE = 0.3
# chance that a message is too vague for any keyword rule
_VAGUE_RATE = 0.05

# Templates: each is a list of alternatives; {a|b|c} picks one at random.
_REQUESTS = {
    BILLING: [
        "I was charged {twice|two times|double} for my {subscription|plan|monthly plan}.",
        "Can I get a refund for {last month|my annual plan|the premium upgrade}?",
        "{I want|I would like|Please give me} my money back, the premium plan is not worth it.",
        "My invoice shows the wrong amount.",
        "{Why was my card declined|Why did my card get declined} when I tried to pay?",
        "How do I cancel my subscription before the next {billing date|payment|renewal}?",
        "The price went up without any notice, {why|what happened}?",
        "I need a receipt for my {company|employer|taxes}.",
        "Please stop charging my {credit card|card|bank account}.",
        "You took {$9.99|$19.99|$4.99} from my account {twice|again} this month.",
        "The payment failed but the money {left my account|was taken anyway}.",
        "Do you offer a discount for {students|teams|schools}?",
        "I was charged but my account still shows the free plan.",
    ],
    TECHNICAL: [
        "The app crashes {when I open the camera|on startup|every time I take a photo}.",
        "I get an error {message|code} {E42|E17|503} when I upload a photo.",
        "Frown detection is {really slow|very slow|laggy} on my {phone|tablet|old phone}.",
        "It keeps freezing {after the latest update|since yesterday|when I switch apps}.",
        "The camera preview is {black|frozen|upside down}.",
        "Detection does not work in {low light|dim rooms|the dark}, it says everyone is smiling.",
        "The app {will not load|is stuck on the loading screen|never finishes loading}.",
        "{Bug|Problem}: the results screen is {blank|empty|white}.",
        "The frown score {jumps around|is always zero|never changes} on my {face|photos}.",
        "After the update the app {crashed|closes itself|shuts down} {twice|again|constantly}.",
        "Notifications {stopped working|do not arrive|are broken} on {Android|iOS|my watch}.",
        "The {battery drains|phone gets hot} when the detector runs.",
        "The app {signs me out|logs me out} {every time|whenever} I switch apps.",
        "Since the update I {cannot|can't} sign in, it shows error {E42|E17|503}.",
    ],
    ACCOUNT: [
        "I forgot my password and the reset {email|link} never {arrives|comes}.",
        "I {cannot|can't} {log in|sign in|login} to my account.",
        "How do I change the email address on my {account|profile}?",
        "Please delete my account and all my {data|photos|personal data}.",
        "My account was locked after too many {attempts|tries|login attempts}.",
        "I want to change my {username|user name|display name}.",
        "The two-factor code is {not accepted|rejected|invalid} {every time|again}.",
        "{Someone|Somebody} else is using my account, I think it was hacked.",
        "How can I merge my two {accounts|profiles}?",
        "I never got the verification email for my new account.",
        "I paid for premium but my {profile|account} shows someone else's name.",
    ],
}

# A sentence about another topic, said in passing (it does not change the team).
_ASIDES = {
    BILLING: [
        "I already paid for premium, by the way.",
        "I have a yearly subscription.",
        "This is costing me money.",
    ],
    TECHNICAL: [
        "The app also felt a bit slow today.",
        "I am on the latest update.",
        "I restarted my phone already.",
    ],
    ACCOUNT: [
        "I already reset my password.",
        "I logged out and in again.",
        "My username is frowny_{42|77|13}.",
    ],
}

_VAGUE = [
    "Something is wrong, can someone call me?",
    "Hello, I need help with your app please.",
    "It does not do what I expected.",
    "Please contact me as soon as possible.",
    "I have a question about my situation.",
]

_GREETINGS = ["", "", "Hi, ", "Hello, ", "Hello team, ", "Dear support, ", "Hey! "]
_CLOSINGS = ["", "", " Thanks!", " Thank you.", " Regards, Sam.", " Please help.",
             " This is urgent.", " I love the app otherwise."]


def _fill(template: str, rng: np.random.Generator) -> str:
    """Replace every {a|b|c} by one of its alternatives."""
    out, rest = [], template
    while "{" in rest:
        head, _, tail = rest.partition("{")
        choice, _, rest = tail.partition("}")
        options = choice.split("|")
        out.append(head)
        out.append(options[rng.integers(len(options))])
    out.append(rest)
    return "".join(out)


def _case(text: str, rng: np.random.Generator) -> str:
    """Most people write normally; some shout, some never use capitals."""
    u = rng.random()
    if u < 0.08:
        return text.upper()
    if u < 0.20:
        return text.lower()
    return text


@seed_by_keyword
def make_support_messages(n: int = 500, *, seed: int = 0) -> pd.DataFrame:
    """Generate ``n`` support messages with their true team.

    Parameters
    ----------
    n : int, default 500
        How many messages (>= 0).
    seed : int, keyword-only
        Random seed (>= 0).

    Returns
    -------
    pandas.DataFrame
        ``text`` (str), ``label`` (int64: 0 = billing, 1 = technical, 2 = account, see
        :data:`LABEL_NAMES`) and ``team`` (the name of the label). About 35% billing, 40%
        technical and 25% account; about a quarter of the messages mention another topic in
        passing and about 5% are too vague for keyword rules.
    """
    n = check_count("n", n, 0)
    rng = generator(check_seed(seed), "support-messages")
    labels = rng.choice(len(LABEL_NAMES), size=n, p=_TEAM_PROBS).astype(np.int64)
    texts = []
    for label in labels:
        if rng.random() < _VAGUE_RATE:
            body = _VAGUE[rng.integers(len(_VAGUE))]
        else:
            options = _REQUESTS[label]
            body = _fill(options[rng.integers(len(options))], rng)
            if rng.random() < _ASIDE_RATE:
                others = [k for k in _ASIDES if k != label]
                other = others[rng.integers(len(others))]
                aside = _fill(_ASIDES[other][rng.integers(len(_ASIDES[other]))], rng)
                body = f"{aside} {body}" if rng.random() < 0.5 else f"{body} {aside}"
        greeting = _GREETINGS[rng.integers(len(_GREETINGS))]
        closing = _CLOSINGS[rng.integers(len(_CLOSINGS))]
        first_word = body.split(" ", 1)[0]
        if greeting.endswith(", ") and first_word not in ("I", "I've", "I'm") and not first_word.isupper():
            body = body[0].lower() + body[1:]
        texts.append(_case(greeting + body + closing, rng))
    return pd.DataFrame(
        {
            "text": pd.Series(texts, dtype=object),
            "label": labels,
            "team": np.asarray(LABEL_NAMES, dtype=object)[labels],
        }
    )
