"""A labelled set for the redactor (issue 16): what a speech recogniser writes in support calls.

Each case is a list of turns, ``"A: …"`` for the agent and ``"C: …"`` for the customer. ``{TAG: …}``
marks a sensitive item that must be hidden with that tag (``{TAG.1: …}`` in two turns is one item
said across both); ``{~KIND: …}`` marks something that must stay readable. The scorer is
tests/intelligence/redaction_eval.py; the bench (bench/quality.py) and the test
(tests/intelligence/test_redaction_set.py) both run it.

Choices made here:

- Order, ticket, case, booking and reference numbers said as such are not sensitive: they are
  neither payment nor personal data, and an agent reading a call back needs them. They stay
  readable unless they could be a card (13–19 digits passing the Luhn check are hidden whatever
  they are called: a card read out as "my number" must never leak); none of those is in the set.
- A postcode is personal data (with a name it locates a person): hidden as ``[POSTCODE]``.
- An amount is anything with a currency word or sign ("six hundred pounds", "£82", "82 pounds 50",
  "$1,200"): never card data, whatever was said before it.
- Years, dates, times, durations, counts, percentages, speeds and model numbers stay readable;
  an expiry date is only read as one in card talk (after the card number, or when asked for).
"""

from __future__ import annotations

CARD_QUESTION = "A: Can I take the long number on the card please?"

CASES: dict[str, list[str]] = {
    # --- card numbers: digits, grouped, run together, spelled out, "oh", "double" ------------------
    "card grouped digits": [CARD_QUESTION, "C: Yes, it is {CARD: 4556 7375 8689 9855}."],
    "card comma groups": [CARD_QUESTION, "C: It's {CARD: 4916, 3827, 5061, 4726}."],
    "card run together": [CARD_QUESTION, "C: {CARD: 5425238430109605}."],
    "card dashes": [CARD_QUESTION, "C: It is {CARD: 4-9-1-6-3-8-2-7-5-0-6-1-4-7-2-6}."],
    "card spelled": [
        CARD_QUESTION,
        "C: Sure, {CARD: four five five six seven three seven five eight six eight nine nine eight five five}.",
    ],
    "card spelled with oh": [
        CARD_QUESTION,
        "C: {CARD: five four two five, two three eight four, three oh one oh, nine six oh five}.",
    ],
    "card double": [
        CARD_QUESTION,
        "C: It's {CARD: six oh one one, double one double one, double one double one, double one one seven}.",
    ],
    "card pairs in tens": [
        CARD_QUESTION,
        "C: {CARD: forty nine sixteen thirty eight twenty seven fifty sixty one forty seven twenty six}.",
    ],
    "card amex": ["A: And the card number?", "C: It's an Amex, {CARD: 3782 822463 10005}."],
    "card with homophones": [CARD_QUESTION, "C: {CARD: 4556 for 7375 8689 9855}."],
    "card without a question": ["C: My card is {CARD: 4111 1111 1111 1111} if that helps."],
    "card in mono one turn": [
        "A: Lovely, go ahead with the card number. C: Yes it's {CARD: 5105 1051 0510 5100} and that's it."
    ],
    "card across two turns": [
        CARD_QUESTION,
        "C: Yes it is {CARD.1: 4556 7375}",
        "A: Mm-hm.",
        "C: {CARD.1: 8689 9855}.",
    ],
    "card across agent repeat": [
        CARD_QUESTION,
        "C: {CARD.1: four nine one six, three eight two seven,}",
        "A: Yep.",
        "C: {CARD.1: five zero six one, four seven two six}.",
    ],
    "card with um": [CARD_QUESTION, "C: It's {CARD: 4556 um 7375 8689 9855}, I think."],
    "card and amount same turn": [
        "C: The card number is {CARD: 4556 7375 8689 9855} and the payment of {~AMOUNT: six hundred pounds} "
        "has gone through."
    ],
    # --- security codes ----------------------------------------------------------------------------
    "cvv asked then given": [
        CARD_QUESTION,
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: And the three digits on the back?",
        "C: {CVV: 417}.",
    ],
    "cvv spelled": [
        "A: What's the security code on the back of the card?",
        "C: {CVV: four one seven}.",
    ],
    "cvv with oh": ["A: Can I have the CVV please?", "C: Yep, {CVV: oh four one}."],
    "cvv named": ["C: The security code is {CVV: 4, 1, 2}."],
    "cvv four digits amex": [
        "A: And for Amex it's the four digits on the front, the security code?",
        "C: {CVV: 2 4 6 8}.",
    ],
    "cvv after card": ["C: Card {CARD: 4916 3827 5061 4726}, code {CVV: 309}."],
    "cvv homophones": ["A: The security code please?", "C: {CVV: 41 too}."],
    "cvv last three": ["A: And the last three digits on the back of the card?", "C: {CVV: 5 5 1}."],
    "cvv then amount": [
        "A: What's the security code?",
        "C: {CVV: 412}.",
        "A: Thanks. So the payment of {~AMOUNT: six hundred pounds} will be taken today.",
    ],
    "cvv double": ["A: The security number on the back?", "C: {CVV: double four seven}."],
    # --- expiry dates ------------------------------------------------------------------------------
    "expiry slash": [CARD_QUESTION, "C: {CARD: 4556 7375 8689 9855}.", "A: Expiry?", "C: {EXPIRY: 04/27}."],
    "expiry spelled oh": [
        CARD_QUESTION,
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: And when does it expire?",
        "C: {EXPIRY: oh four twenty seven}.",
    ],
    "expiry month year words": [
        "C: The card number is {CARD: 4916 3827 5061 4726}",
        "A: Thank you, and the expiry date?",
        "C: {EXPIRY: April 2027}.",
    ],
    "expiry month twenty": [
        "C: It's {CARD: 4916 3827 5061 4726}.",
        "A: Expiry date?",
        "C: {EXPIRY: March twenty twenty eight}.",
    ],
    "expiry full year": ["A: What's the expiry date on the card?", "C: {EXPIRY: 09 2028}."],
    "expiry spelled year": [
        "A: When does the card expire?",
        "C: {EXPIRY: oh nine, twenty twenty eight}.",
    ],
    "expiry named inline": [
        "C: It expires {EXPIRY: oh eight twenty eight} and the security code is {CVV: four one seven}."
    ],
    "expiry valid until": ["C: The card is valid until {EXPIRY: 11/26}."],
    "expiry end date": ["A: And the end date on the card?", "C: {EXPIRY: 12 29}."],
    "expiry after card, unnamed": ["C: {CARD: 5425 2384 3010 9605}, {EXPIRY: 0 3 2 7}, {CVV: 4 4 1}."],
    "expiry then phone later": [
        "A: Can I take a contact number?",
        "C: It's {PHONE: 07946 123456}.",
        "A: And the card number?",
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: Expiry?",
        "C: {EXPIRY: oh four twenty seven}.",
    ],
    "expiry date on the card after phone talk": [
        "A: Is {PHONE: 07946 123456} still the best number for you?",
        "C: It is.",
        "A: And the date on the card?",
        "C: {EXPIRY: 04 2027}.",
    ],
    "expiry month and year": ["A: The month and year it runs out?", "C: {EXPIRY: oh six, twenty six}."],
    "expiry after phone talk": [
        "A: Is {PHONE: 07946 123456} still your mobile?",
        "C: Yes.",
        "A: Great, and the card expires when?",
        "C: {EXPIRY: 0 4 2 0 2 7}.",
    ],
    "expiry mono with cvv": [
        "A: Can you read me the long number on the card?",
        "C: Yes it is {CARD.1: 4, 5, 5, 6, 7, 3, 7,}",
        "A: {CARD.1: 5, 8, 6, 8, 9, 9, 8, 5, 5}. Thank you and the security code?",
        "C: The code is {CVV.1: 4, 1,}",
        "A: {CVV.1: 2}, and the expiry date?",
        "C: {EXPIRY: Oh nine twenty seven}.",
    ],
    # --- bank details ------------------------------------------------------------------------------
    "sort code grouped": ["C: The sort code is {SORT_CODE: 20-45-77} and the account number is {ACCOUNT: 55123984}."],
    "sort code spelled": [
        "A: What's the sort code?",
        "C: {SORT_CODE: two oh, four five, seven seven}.",
        "A: And the account number?",
        "C: {ACCOUNT: five five one two three nine eight four}.",
    ],
    "sort code misheard": [
        "C: The short code is {SORT_CODE: 2 0 4 5 7 7} and the count number is {ACCOUNT: 5 5 1 2 3 9 8 4}"
    ],
    "account double": [
        "A: Can I take your account number?",
        "C: {ACCOUNT: three one double four, two six nine oh}.",
    ],
    "iban": ["C: My IBAN is {ACCOUNT: GB82WEST12345698765432}."],
    "sort code 2-2-2 unnamed": ["C: Oh and it's {SORT_CODE: 40 11 62} for the bank."],
    # --- phones ------------------------------------------------------------------------------------
    "phone grouped": ["C: Call me on {PHONE: 07946 123456} please."],
    "phone spelled": ["C: My phone number is {PHONE: zero seven seven zero zero, nine zero zero, one two three}."],
    "phone plus": ["C: My number is {PHONE: plus four four seven nine four six one two three four five six}."],
    "phone double oh": [
        "A: Best number to reach you?",
        "C: {PHONE: oh one six one, double four six, double two three one}.",
    ],
    "phone landline": ["C: The landline is {PHONE: 020 7946 0018}."],
    "phone across turns": [
        "A: What's your mobile number?",
        "C: {PHONE.1: 07700}",
        "A: Uh-huh.",
        "C: {PHONE.1: 900 123}.",
    ],
    # --- emails ------------------------------------------------------------------------------------
    "email written": ["C: My email is {EMAIL: john.smith@example.com} thanks."],
    "email spoken": ["C: It is {EMAIL: john dot smith at example dot com}."],
    "email spoken co uk": ["C: Please use {EMAIL: mary jones at northmail dot co dot uk}."],
    "email mixed": ["C: My email is {EMAIL: john smith at example.com}"],
    # --- postcodes ---------------------------------------------------------------------------------
    "postcode written": ["A: And the postcode?", "C: {POSTCODE: SW1A 1AA}."],
    "postcode short": ["C: My postcode is {POSTCODE: M1 1AE}."],
    "postcode spelled": ["A: What's the postcode there?", "C: It's {POSTCODE: B three three, eight T H}."],
    "postcode letters spelled": ["C: The post code is {POSTCODE: S W one A one A A}."],
    "postcode with sort code talk": ["C: The sort code is on the statement and the post code is {POSTCODE: SW1 4AB}."],
    "postcode lowercase": ["C: yeah the postcode is {POSTCODE: cr2 6xh} thanks"],
    # --- NI numbers --------------------------------------------------------------------------------
    "ni grouped": ["C: It is {NI: QQ 12 34 56 C}."],
    "ni spelled": ["A: Your national insurance number?", "C: {NI: Q Q one two three four five six C}."],
    "ni homophone": ["C: My NI number is {NI: QQ1 to 3456C}."],
    # --- amounts: never card data ------------------------------------------------------------------
    "amount words after card": [
        CARD_QUESTION,
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: Thank you. The payment of {~AMOUNT: six hundred pounds} is going through now.",
    ],
    "amount sign after card": [
        CARD_QUESTION,
        "C: {CARD: 4916 3827 5061 4726}.",
        "A: Great, that's {~AMOUNT: £82} taken.",
    ],
    "amount pounds pence": [
        "C: The card is {CARD: 5425 2384 3010 9605}.",
        "A: Your balance is {~AMOUNT: 82 pounds 50}.",
    ],
    "amount dollars comma": [
        "C: Card {CARD: 4556 7375 8689 9855}.",
        "A: The invoice was {~AMOUNT: $1,200} in total.",
    ],
    "amount euros a month": [
        "A: And the security code?",
        "C: {CVV: 309}.",
        "A: Thanks, that's {~AMOUNT: twenty five euros} a month from now.",
    ],
    "amount spoken digits": [
        "A: What is the security code?",
        "C: {CVV: 4 1 2}.",
        "A: Lovely. I'll take {~AMOUNT: 600 pounds} now.",
    ],
    "amount in the code turn": [
        "A: The security code please, and I'll take {~AMOUNT: 412 pounds}.",
        "C: {CVV: 7 7 1}.",
    ],
    "amount repeated after the code": [
        "A: What's the security code?",
        "C: {CVV: 412}.",
        "A: Thanks. So the payment of {~AMOUNT: six hundred pounds} will be taken today, that's {~AMOUNT: 600}.",
    ],
    "amount with more talk before the code": [
        "A: The security code please, and I'll take {~AMOUNT: 412 pounds} now, thank you.",
        "C: {CVV: 7 7 1}.",
    ],
    "amount then code": [
        "A: So it's {~AMOUNT: three hundred and forty pounds} today, can I take the security code?",
        "C: {CVV: five five one}.",
    ],
    "amount quid": ["C: The card was {CARD: 4556 7375 8689 9855}.", "A: And it's {~AMOUNT: 250 quid} for the year."],
    "amount decimal": ["A: After the card payment the balance is {~AMOUNT: £1,234.56}."],
    "amount written pounds sign space": ["A: The security code is on the back. The fee is {~AMOUNT: £ 35}."],
    "amount sterling": ["C: I paid {~AMOUNT: 450 pounds} on my card last week."],
    "amount bucks": ["C: The card charge was {~AMOUNT: 120 bucks}."],
    "amount euro sign": ["A: The card will be charged {~AMOUNT: €99} per quarter."],
    "amount hundred words": ["A: The card payment is {~AMOUNT: nine hundred and ninety nine pounds}."],
    "amount pence": ["A: It's {~AMOUNT: 45 pence} per minute on the card."],
    "amount refund after cvv": [
        "A: And the code on the back?",
        "C: {CVV: 3 3 8}.",
        "A: Thanks. Your refund of {~AMOUNT: 129.99} pounds will go back on the card.",
    ],
    "amount dollars written": ["A: That's {~AMOUNT: 1,499 dollars} on the card, is that right?"],
    "amount k": ["C: The card limit is {~AMOUNT: 5k}."],
    # --- dates, times, years -----------------------------------------------------------------------
    "date ordinal": [
        CARD_QUESTION,
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: The engineer comes on the {~DATE: 3rd of March}.",
    ],
    "time": ["C: My card is {CARD: 4916 3827 5061 4726}.", "A: Booked for {~TIME: 10:30} tomorrow."],
    "time spoken": ["A: I'll call you back at {~TIME: half past three}."],
    "date numbers": ["A: Your contract ends on {~DATE: 14/03/2026}."],
    "date after card": [
        "C: The card's {CARD: 5425 2384 3010 9605}.",
        "A: Payment will be taken on the {~DATE: 15th}.",
    ],
    "year after card": [
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: Thanks. You've been with us since {~YEAR: 2019}.",
    ],
    "year spoken": ["C: I moved in back in {~YEAR: twenty nineteen}."],
    "year in card talk": ["C: I got the card in {~YEAR: 2021} and it's never worked."],
    "date card expiry talk no digits": ["A: The card expires next year, we spoke for {~QUANTITY: 20 minutes}."],
    # --- quantities, percentages, speeds, models ---------------------------------------------------
    "quantity weeks": ["A: It takes {~QUANTITY: three weeks} to arrive."],
    "quantity engineers": [
        "C: Card number {CARD: 4556 7375 8689 9855}.",
        "A: We'll send {~QUANTITY: 2 engineers}.",
    ],
    "quantity days range": ["A: The security code arrives in {~QUANTITY: two to three days}."],
    "quantity years customer": ["C: I have been a customer for {~QUANTITY: 12 years} and called {~QUANTITY: 3 times}."],
    "percentage": ["A: That's a {~PERCENT: 15%} discount on the card payment."],
    "percentage words": ["A: You get {~PERCENT: ten percent} off if you pay by card."],
    "speed after card": [
        CARD_QUESTION,
        "C: {CARD: 4916 3827 5061 4726}.",
        "A: Thanks. You'll get {~SPEED: 500 megabits} for {~AMOUNT: twenty five euros} a month.",
    ],
    "speed mbps": ["A: The line is running at {~SPEED: 900 Mbps}."],
    "speed gig": ["A: After the card payment you'll be on the {~SPEED: 1 gig} plan."],
    "data allowance": ["A: The card's fine. You have {~QUANTITY: 100 gigabytes} of data."],
    "model number": ["C: The router is a {~MODEL: TP-Link AX3000}."],
    "model spelled": ["C: It's the {~MODEL: Hub 3} from the card shop."],
    "model iphone": [CARD_QUESTION, "C: {CARD: 4556 7375 8689 9855}.", "C: It's for the {~MODEL: iPhone 15} upgrade."],
    "model digits": ["C: The boiler model is the {~MODEL: Worcester 4000}."],
    "quantity items after cvv": [
        "A: Security code?",
        "C: {CVV: 7 1 4}.",
        "A: Thanks, so that's {~QUANTITY: 3 items} on the order.",
    ],
    "quantity kilowatt": ["A: You used {~QUANTITY: 350 kilowatt hours} last month."],
    "extension number": ["A: Ask for extension {~QUANTITY: 204} when you call."],
    "quantity floor": ["C: I'm on the card phone line, floor {~QUANTITY: 3}."],
    # --- order, ticket and reference numbers said as such ------------------------------------------
    "order number": ["C: The order number is {~ORDER: 4916 3827 5061 4727}."],
    "ticket number": ["A: Your ticket number is {~ORDER: 8 4 5 2 1 9}."],
    "case number": ["A: I've opened case number {~ORDER: 55123984} for you."],
    "reference number spoken": ["A: Your reference number is {~ORDER: seven seven three oh one two}."],
    "booking reference": ["A: The booking reference is {~ORDER: 0 7 7 0 0 9 0 0 1 2 3}."],
    "order after card": [
        "C: The card is {CARD: 4556 7375 8689 9855}.",
        "A: And your order number is {~ORDER: 300 4521}.",
    ],
    "account number of ours": ["A: Your customer number is {~ORDER: 1004 5521}."],
    # --- mixed calls -------------------------------------------------------------------------------
    "full payment call": [
        "A: Thank you for calling, how can I help?",
        "C: I'd like to pay {~AMOUNT: £82} off my bill.",
        CARD_QUESTION,
        "C: {CARD: four nine one six, three eight two seven, five zero six one, four seven two six}.",
        "A: And the expiry?",
        "C: {EXPIRY: oh nine twenty eight}.",
        "A: And the three digits on the back?",
        "C: {CVV: four one seven}.",
        "A: Thank you, that's {~AMOUNT: 82 pounds} paid, you'll get an email in {~QUANTITY: 5 minutes}.",
    ],
    "direct debit call": [
        "A: To set up the direct debit I need the sort code.",
        "C: {SORT_CODE: 30 94 55}.",
        "A: And the account number?",
        "C: {ACCOUNT: 3 1 4 4 2 6 9 0}.",
        "A: Lovely, {~AMOUNT: 45 pounds} a month from the {~DATE: 1st of June}.",
    ],
    "contact details call": [
        "A: Can I take a contact number?",
        "C: {PHONE: 07700 900123}.",
        "A: And an email?",
        "C: {EMAIL: sam dot lee at example dot org}.",
        "A: And the postcode?",
        "C: {POSTCODE: EH1 2NG}.",
        "A: The engineer comes on the {~DATE: 3rd of March} at {~TIME: 10:30}.",
    ],
    "broadband call": [
        "C: I'm paying {~AMOUNT: 40 pounds} a month for {~SPEED: 500 megabits} and getting {~SPEED: 50}.",
        "A: I can offer {~PERCENT: 20 percent} off for {~QUANTITY: 12 months}.",
    ],
    "card then quantities": [
        "A: Read me the card number when you're ready.",
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: Thanks. We have {~QUANTITY: 3 engineers} free in {~QUANTITY: 2 weeks}.",
    ],
    "card then amount digits": [
        "A: Long number on the card?",
        "C: {CARD: 4916 3827 5061 4726}.",
        "A: And the amount today is {~AMOUNT: 600 pounds}?",
        "C: Yes, {~AMOUNT: 600}.",
    ],
    "card then year and amount": [
        "C: My card number is {CARD: 5425 2384 3010 9605}.",
        "A: That's the card you used in {~YEAR: 2024} for {~AMOUNT: $1,200}?",
    ],
    # --- what Whisper wrote for the espeak calls of tests/intelligence/card_speech.py ("fast") -----
    "whisper fast stereo": [
        "A: What is the card number?",
        "C: {CARD: 5, 4, 2, 5, and 2, 3, 4, and 3, 0, 1, 0, and 9, 6, 0, 5,}",
        "A: And the free digits on the Mac.",
        "C: {CVV: 7, 3, 9, and 6, 5, 4, 8, 28}.",
        "A: Thank you.",
        "A: That is {~AMOUNT: 82 pounds}.",
    ],
    "whisper fast mono": [
        "A: What is the current number? {CARD.1: 5 .45 and 2 .34 and 3 .01,}",
        "C: {CARD.1: 0 .96, 0 .05,}",
        "A: and the free digits on the Mac.",
        "C: {CVV: 7 .39} and the textiles. {EXPIRY: 8 .28}.",
        "A: Thank you. Add to {~AMOUNT: 92 pounds}.",
    ],
    "whisper long mono expiry and code": [
        "A: And the expiry date and the security code on the Mac.",
        "C: It acts higher than {EXPIRY: 8, 28,} and the security code is {CVV: 417}.",
    ],
    # --- harder forms --------------------------------------------------------------------------------
    "card dash groups": [CARD_QUESTION, "C: It's {CARD: 4556-7375-8689-9855}."],
    "card digit lost": [CARD_QUESTION, "C: {CARD: 4 5 5 6 7 3 7 5 8 6 8 9 9 8 5}."],
    "card read back by agent": [
        CARD_QUESTION,
        "C: {CARD: 4916 3827 5061 4726}.",
        "A: So that's {CARD: 4916 3827 5061 4726}?",
        "C: Yes.",
    ],
    "cvv after a pause sentence": [
        "A: And the security code?",
        "C: Hang on. Let me turn it over. It's {CVV: 4 1 2}.",
    ],
    "cvv spoken as hundred": ["A: The three digits on the back?", "C: {CVV: four one two}, yeah."],
    "expiry slash spoken": ["A: Expiry date?", "C: {EXPIRY: oh four slash two seven}."],
    "expiry year only": ["C: The card expires in {EXPIRY: 2027}."],
    "expiry and code one breath": [
        "A: Expiry and security code please.",
        "C: {EXPIRY: 0 5 2 8} and {CVV: 6 6 2}.",
    ],
    "agent amount straight after card": [
        CARD_QUESTION,
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: And it's {~AMOUNT: 600} today?",
    ],
    "amount thousand words": ["A: That's {~AMOUNT: one thousand two hundred pounds} on the card."],
    "amount price no currency": ["A: After your card payment it's {~AMOUNT: 4.99} a month."],
    "amount pounds before number": ["C: The card payment was {~AMOUNT: pounds 82}? No, {~AMOUNT: 92 pounds}."],
    "open hours": ["A: The card line is open {~TIME: 24/7}."],
    "time digits after card": [
        "C: {CARD: 5425 2384 3010 9605}.",
        "A: Thank you. The engineer will be there between {~TIME: 8} and {~TIME: 12}.",
    ],
    "working days": ["A: The new card arrives in {~QUANTITY: 3 to 5} working days."],
    "room number": ["C: I'm in room {~QUANTITY: 101}."],
    "invoice number bare": ["A: I'm looking at invoice {~ORDER: 20391} now."],
    "speed decimal": ["A: We measured {~SPEED: 76.5 megabits} on the line."],
    "percent decimal": ["A: The card has a {~PERCENT: 5.9 percent} fee."],
    "year since card": ["C: I've had this card since {~YEAR: 2015}."],
    "model after card": [
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: That's for the {~MODEL: Galaxy S24} then.",
    ],
    "date spoken after cvv": [
        "A: And the code on the back?",
        "C: {CVV: 2 2 9}.",
        "A: Thanks, it'll show on your statement on the {~DATE: twenty third}.",
    ],
    "phone with area code words": ["C: My home number is {PHONE: oh one one three, four nine six, oh oh one eight}."],
    "account after sort code": [
        "C: Sort code {SORT_CODE: 60 16 13}, account {ACCOUNT: 3 1 9 2 6 8 1 9}.",
    ],
    "email with digits": ["C: It's {EMAIL: sam.lee82@example.co.uk}."],
    "postcode after address": ["C: It's 12 Station Road, Leeds, {POSTCODE: LS1 4AP}."],
    "house number not postcode": ["C: I live at number {~QUANTITY: 42}, the postcode is {POSTCODE: LS1 4AP}."],
}

# Written after the redactor was fixed and scored once before any change (38 cases: 0 leaks,
# 0 false redactions, precision 100 %; one item was labelled too wide and is corrected here).
CARD_QUESTION_2 = "A: Could you read me the card number?"
HELD_OUT: dict[str, list[str]] = {
    "h card spaced pairs": [CARD_QUESTION_2, "C: {CARD: 49 16 38 27 50 61 47 26}."],
    "h card words and digits": [CARD_QUESTION_2, "C: {CARD: four nine one six 3827 five zero six one 4726}."],
    "h card with err": [CARD_QUESTION_2, "C: Err, {CARD: 5425, 2384, er, 3010, 9605}."],
    "h card triple": [
        CARD_QUESTION_2,
        "C: {CARD: four one triple one, one one one one, one one one one, one one one one}.",
    ],
    "h card visa mention": ["C: It's a Visa, {CARD: 4556 7375 8689 9855}, expiry {EXPIRY: ten twenty six}."],
    "h cvv its": ["A: And the CVC?", "C: It's {CVV: nine oh two}."],
    "h cvv numbers on back": ["A: The last three numbers on the back please.", "C: {CVV: 8 0 8}."],
    "h expiry words": ["A: When does the card expire?", "C: The end of {EXPIRY: June twenty twenty seven}."],
    "h expiry mm yy digits": ["A: Expiry date please?", "C: {EXPIRY: 0727}."],
    "h expiry eleven": ["A: And the expiry?", "C: {EXPIRY: eleven twenty nine}."],
    "h sort code dashes words": ["A: Your sort code?", "C: {SORT_CODE: twelve, thirty four, fifty six}."],
    "h account after sort": ["A: And the account number?", "C: It's {ACCOUNT: 41 55 98 02}."],
    "h phone 0800 style": ["C: You can reach me on {PHONE: 0161 496 0000}."],
    "h phone mobile words": ["C: My mobile's {PHONE: oh seven nine double one, one two three, four five six}."],
    "h email gmail": ["C: It's {EMAIL: jane doe at gmail dot com}."],
    "h postcode spoken": ["A: Postcode?", "C: {POSTCODE: N W one, six X E}."],
    "h ni spaced": ["C: My national insurance number is {NI: AB 12 34 56 D}."],
    "h amount pounds fifty": ["C: It was {~AMOUNT: 19 pounds 99} on the card."],
    "h amount sign words": ["A: The outstanding balance is {~AMOUNT: £1,250.00}."],
    "h amount hundred after cvv": [
        "A: Security code?",
        "C: {CVV: 3 1 7}.",
        "A: Perfect, {~AMOUNT: four hundred and twenty pounds} taken.",
    ],
    "h amount euros digits": ["A: It's {~AMOUNT: 300 euros} for the year on this card."],
    "h amount dollars cents": ["C: I was charged {~AMOUNT: $49.99} twice on my card."],
    "h amount refund card": ["C: My card number is {CARD: 4916 3827 5061 4726}.", "A: The refund is {~AMOUNT: 82.50}."],
    "h date of month": ["A: It'll come out on the {~DATE: 28th} of each month."],
    "h date digits": ["A: Your next bill is on {~DATE: 12/01}."],
    "h time pm": ["A: I'll call at {~TIME: 2 pm}."],
    "h year words": ["C: I joined in {~YEAR: twenty twenty one}."],
    "h quantity months after card": [
        "C: {CARD: 4556 7375 8689 9855}.",
        "A: Lovely. That's for {~QUANTITY: 12 months}.",
    ],
    "h quantity devices": ["C: I have {~QUANTITY: 4 devices} on the card account."],
    "h speed mbps card": [
        CARD_QUESTION_2,
        "C: {CARD: 5425 2384 3010 9605}.",
        "A: Your speed goes to {~SPEED: 900} megabits.",
    ],
    "h percent": ["A: Prices rise {~PERCENT: 3.5%} in April."],
    "h model": ["C: It's a {~MODEL: Samsung QE55} telly."],
    "h order ref": ["A: Your order reference is {~ORDER: 7 7 3 1 0 2 4}."],
    "h ticket": ["A: Ticket number {~ORDER: 4 4 9 1 2 0}, keep that safe."],
    "h tracking": ["A: The tracking number is {~ORDER: 1 Z 9 9 9 A A 1 0 1 2 3 4 5 6 7 8 4}."],
    "h year after card named": ["C: The card number's {CARD: 4916 3827 5061 4726}.", "A: Issued in {~YEAR: 2023}?"],
    "h multi turn cvv": ["A: And finally the security code.", "C: Um, just a sec.", "C: {CVV: 6 0 1}."],
    "h multi turn card 3": [
        CARD_QUESTION_2,
        "C: {CARD.1: 4556}",
        "A: Yep.",
        "C: {CARD.1: 7375}",
        "A: Mm.",
        "C: {CARD.1: 8689 9855}.",
    ],
}
CASES.update({name[2:]: lines for name, lines in HELD_OUT.items()})
