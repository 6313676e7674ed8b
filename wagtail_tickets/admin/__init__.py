"""The agent's desk in the Wagtail admin.

menu.py     the "Helpdesk" menu group; viewsets join it through HELPDESK_MENU_HOOK
config.py   statuses, priorities, staff, saved searches; the permission policy
dashboard.py  the admin home panel
inbox.py    the inbox listing, filters, saved searches, bulk actions
ticket.py   the ticket screen, creating tickets for customers, transcripts
"""
