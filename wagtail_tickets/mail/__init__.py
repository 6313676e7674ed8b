"""E-mail in and out, beyond the notification texts.

Mail is one more entrance onto the road (DESIGN §3): it makes tickets and replies only
through the workflow, like the forms do.

secrets.py   mailbox passwords: encrypted in the database, or read from the environment
charsets.py  decoding text whose declared charset is wrong, unknown or missing
parse.py     a raw message → subject, sender, text, attachments, threading headers
html.py      HTML bodies → sanitised → plain text
quotes.py    cutting quoted text and signatures from replies (English, Russian, …)
loops.py     auto-replies, lists, bounces, the helpdesk's own addresses, reply limits
thread.py    which ticket a message belongs to, and whether its sender may write there
intake.py    one message → a ticket, a reply, a note, a refusal or nothing
fetch.py     IMAP and POP3 clients, the per-mailbox lock, a fetch run
headers.py   Message-ID, In-Reply-To, References, Reply-To, Auto-Submitted of outgoing mail
replies.py   the answer to an unknown sender
"""
