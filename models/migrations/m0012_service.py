from models.service import SERVICE_MODELS

NUMBER = 12
NAME = "after the sale: service requests, documents, contracts and warranty"


def up(database):
    database.create_tables(SERVICE_MODELS)
    from models.service import ServiceCategory

    defaults = (("تعمیر", 120, 16 * 60, False), ("نصب و راه‌اندازی", 240, 27 * 60, False),
                ("پرسش فنی", 30, 4 * 60, False), ("شکایت", 60, 18 * 60, True))
    for i, (name, response, resolve, complaint) in enumerate(defaults):
        ServiceCategory.insert(name=name, response_minutes=response, resolve_minutes=resolve,
                               is_complaint=complaint, position=i, active=True).execute()
