from .desk import SavedSearch, Star, TicketView
from .pages import DepartmentPage, HelpdeskPage, TicketFormField
from .settings import HelpdeskSettings
from .staff import StaffMember
from .tickets import (
    Attachment,
    DepartmentCounter,
    Message,
    Priority,
    Status,
    Ticket,
)

__all__ = [
    "Attachment",
    "DepartmentCounter",
    "DepartmentPage",
    "HelpdeskPage",
    "HelpdeskSettings",
    "Message",
    "Priority",
    "SavedSearch",
    "StaffMember",
    "Star",
    "Status",
    "Ticket",
    "TicketFormField",
    "TicketView",
]
