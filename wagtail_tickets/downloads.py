"""How an attachment leaves the server, for the customer's and the agent's downloads alike."""

from django.http import FileResponse, Http404


def attachment_response(attachment):
    """The file as a download the browser will never render or sniff.

    Callers check who is asking first; this only decides how the bytes are sent.
    """
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
