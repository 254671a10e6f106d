def institution(request):
    user = getattr(request, "user", None)
    inst = getattr(user, "institution", None) if user and user.is_authenticated else None
    return {"current_institution": inst}
