"""The agent's desk in the Wagtail admin.

menu.py        the "Helpdesk" menu group; viewsets join it through HELPDESK_MENU_HOOK
config/        statuses, priorities, staff, saved searches, departments; the permission
               policy
dashboard.py   the admin home panel
inbox.py       the inbox listing and its quick views and saved searches
inbox_table.py the inbox's columns, built as escaped strings
inbox_pages.py the paginator of keyword searches
inbox_bulk.py  the inbox's bulk actions
filters.py     the inbox's filters sidebar
forms.py       the ticket screen's forms: reply, fields, message edit, new ticket
ticket/        the ticket screen, its actions, creating tickets for customers, transcripts
reports.py     the "Frequent requests" report
knowledge.py   drafting an article from a resolved ticket; articles to link in replies
mailboxes.py   Helpdesk → Mailboxes (``manage_mailboxes``); the original of a mail for staff
"""
