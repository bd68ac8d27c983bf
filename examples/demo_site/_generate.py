"""Regenerates the demo web site's pages from the review data below (run it after editing).

Every format the crawler reads is here: schema.org pages (JSON-LD, microdata, RDFa) with
rel=next, Trustpilot pages with __NEXT_DATA__, Mastodon API JSON, an RSS feed, the App Store
JSON feed, and each business's own site with its service claims.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent

# ---- Café Aurora (Stockholm): claims 95 % positive service; customers complain about staff.
AURORA = [
    # (id, author, date, stars, language, title, body)
    ("a01", "Linnea B.", "2026-11-18", 1, "sv", "Otrevlig personal",
     "Personalen var otrevlig och ignorerade oss i tjugo minuter. Kaffet var kallt när det väl kom."),
    ("a02", "James W.", "2026-11-15", 2, "en", "Rude barista",
     "The barista rolled his eyes when I asked for oat milk. Staff seemed annoyed to serve anyone."),
    ("a03", "Sofia N.", "2026-11-12", 5, "sv", "Bästa kanelbullen",
     "Fantastiska kanelbullar och mysig atmosfär vid fönstret. Kommer gärna tillbaka."),
    ("a04", "Hannah K.", "2026-11-09", 2, "de", "Unfreundlich",
     "Das Personal war unfreundlich und hat unsere Bestellung zweimal vergessen. Schade, der Kuchen war gut."),
    ("a05", "Claire D.", "2026-11-05", 1, "fr", "Service désagréable",
     "Serveuse désagréable, aucune excuse après une attente de 25 minutes. Je ne reviendrai pas."),
    ("a06", "Diego R.", "2026-11-02", 3, "es", "Café bueno, servicio lento",
     "El café es bueno pero el servicio es lentísimo y el personal poco amable."),
    ("a07", "Erik L.", "2026-10-28", 2, "sv", "Lång väntetid",
     "Vi väntade 30 minuter på två kaffe. Personalen pratade med varandra istället för att jobba."),
    ("a08", "Olga P.", "2026-10-24", 2, "ru", "Грубый персонал",
     "Персонал грубый, на вопросы отвечали сквозь зубы. Десерты вкусные, но настроение испорчено."),
    ("a09", "Mark T.", "2026-10-20", 4, "en", "Great pastries",
     "Great pastries and a cosy corner to work in. Service was fine, a bit slow at lunch."),
    ("a10", "Anna S.", "2026-10-16", 1, "sv", "Aldrig igen",
     "Kassören var direkt oförskämd mot min mamma. Ingen bad om ursäkt."),
    ("a11", "Lukas M.", "2026-10-11", 3, "de", "Gemischt",
     "Der Kaffee ist ausgezeichnet, aber die Preise sind hoch und die Bedienung wirkt gestresst."),
    ("a12", "Marie L.", "2026-10-06", 2, "fr", "Personnel froid",
     "Le personnel est froid et peu attentif. Les tables étaient sales à notre arrivée."),
    ("a13", "Carmen G.", "2026-10-01", 5, "es", "¡Me encanta!",
     "Los bollos de canela son increíbles y la camarera fue muy simpática con nosotros."),
    ("a14", "Oskar H.", "2026-09-25", 2, "sv", "Smutsigt",
     "Smutsiga bord och fulla papperskorgar. Personalen brydde sig inte."),
    ("a15", "Emily R.", "2026-09-19", 1, "en", "Worst service in Södermalm",
     "Staff were dismissive and the manager argued with us about a wrong order. Avoid."),
    ("a16", "Ivan K.", "2026-09-12", 4, "ru", "Хороший кофе",
     "Кофе отличный, выпечка свежая. Обслуживание обычное, без восторга."),
    ("a17", "Greta F.", "2026-09-05", 2, "de", "Lange Wartezeit",
     "Wir haben 20 Minuten auf zwei Cappuccino gewartet, niemand hat sich entschuldigt."),
    ("a18", "Nils E.", "2026-08-29", 3, "sv", "Okej",
     "Okej fika, lite dyrt. Personalen var varken trevlig eller otrevlig."),
]

# ---- Hôtel Lumière (Paris): claims 90 % positive cleanliness, 80 % on waits; mixed reality.
LUMIERE = [
    # (id, author, date, stars, language, title, body, reply)
    ("tp-l01", "Mallory\r\nBcc: leak@example.com", "2026-11-20T21:14:00Z", 1, "en",
     "Filthy room <script>alert(1)</script>",
     "Hair in the shower, stained sheets and a 40 minute wait at check-in. "
     "<script>alert(1)</script> Never again.", None),
    ("tp-l02", "Camille R.", "2026-11-17T09:30:00Z", 2, "fr", "Attente interminable",
     "Une heure d'attente à la réception pour récupérer nos clés. La chambre était propre, au moins.",
     "Nous sommes désolés pour l'attente, nous renforçons l'équipe du soir."),
    ("tp-l03", "Thomas B.", "2026-11-14T18:02:00Z", 5, "fr", "Parfait",
     "Chambre impeccable, personnel charmant et petit-déjeuner délicieux. Très bien situé.", None),
    ("tp-l04", "Sarah J.", "2026-11-10T07:45:00Z", 3, "en", "Good location, slow check-in",
     "Lovely location near the Marais, but check-in took 35 minutes and nobody apologised.",
     "Thank you Sarah, we are reviewing our check-in process."),
    ("tp-l05", "Jürgen W.", "2026-11-06T12:00:00Z", 2, "de", "Schmutziges Bad",
     "Das Bad war schmutzig und es roch nach Rauch. Die Lage ist allerdings ideal.", None),
    ("tp-l06", "Lucía M.", "2026-11-01T16:20:00Z", 4, "es", "Bonito hotel",
     "Habitación limpia y cama cómoda. El desayuno es caro para lo que ofrece.", None),
    ("tp-l07", "Antoine P.", "2026-10-27T10:10:00Z", 1, "fr", "Sale et bruyant",
     "Moquette tachée, poussière sous le lit et du bruit toute la nuit. Très déçu.",
     "Nous avons transmis vos remarques au service d'entretien."),
    ("tp-l08", "Emma L.", "2026-10-22T20:40:00Z", 4, "en", "Nice stay",
     "Clean, quiet room and friendly staff at breakfast. Check-in was a bit slow.", None),
    ("tp-l09", "Klaus D.", "2026-10-15T08:00:00Z", 3, "de", "Durchschnittlich",
     "Sauberes Zimmer, aber 30 Minuten Wartezeit beim Check-in. Preis-Leistung mittelmäßig.", None),
    ("tp-l10", "Inès T.", "2026-10-09T14:55:00Z", 5, "fr", "Accueil chaleureux",
     "Accueil chaleureux, chambre très propre, je recommande sans hésiter.", None),
    ("tp-l11", "Pablo S.", "2026-10-02T19:30:00Z", 2, "es", "Esperamos demasiado",
     "Esperamos 45 minutos para hacer el check-in y la habitación no estaba lista.", None),
    ("tp-l12", "Agnès V.", "2026-09-24T11:11:00Z", 3, "fr", "Correct",
     "Hôtel correct, propreté moyenne, personnel aimable mais débordé.", None),
]

# ---- Hôtel Rivoli (Paris): Hôtel Lumière's competitor (`competitors` in demo.toml); spotless
# rooms, the odd wait at check-in.
RIVOLI = [
    # (id, author, date, stars, language, title, body, reply)
    ("tp-r01", "Hélène M.", "2026-11-19T10:05:00Z", 5, "fr", "Impeccable",
     "Chambre d'une propreté irréprochable, salle de bain impeccable. Accueil souriant.", None),
    ("tp-r02", "George P.", "2026-11-16T18:40:00Z", 5, "en", "Spotless room",
     "The room was spotless and the bathroom sparkling clean. Friendly staff at the desk.", None),
    ("tp-r03", "Katrin S.", "2026-11-12T08:15:00Z", 4, "de", "Sehr sauber",
     "Sehr sauberes Zimmer und frische Handtücher jeden Tag. Das Frühstück war gut.", None),
    ("tp-r04", "Javier L.", "2026-11-08T21:30:00Z", 5, "es", "Limpísimo",
     "La habitación estaba limpísima y el baño impecable. Personal muy amable.", None),
    ("tp-r05", "Elsa N.", "2026-11-03T13:00:00Z", 4, "sv", "Rent och fint",
     "Mycket rent rum och trevlig personal. Frukosten var god.", None),
    ("tp-r06", "Pierre D.", "2026-10-29T09:45:00Z", 3, "fr", "Attente à l'arrivée",
     "Chambre propre, mais vingt minutes d'attente à la réception pour le check-in.",
     "Merci Pierre, nous ajoutons une personne à la réception le soir."),
    ("tp-r07", "Natalia V.", "2026-10-24T17:20:00Z", 5, "ru", "Очень чисто",
     "Номер очень чистый, уборка каждый день. Персонал приветливый.", None),
    ("tp-r08", "Tom H.", "2026-10-18T07:55:00Z", 4, "en", "Clean and quiet",
     "Clean, quiet room with fresh sheets. Check-in was quick.", None),
    ("tp-r09", "Sophie R.", "2026-10-10T15:10:00Z", 5, "fr", "Très propre",
     "Hôtel très propre, literie confortable, personnel aux petits soins.", None),
    ("tp-r10", "Marco B.", "2026-10-03T12:35:00Z", 2, "es", "Esperamos mucho",
     "Tuvimos que esperar 40 minutos para el check-in, aunque la habitación estaba limpia.", None),
]

# ---- RapidRide (Berlin ride app): claims 80 % positive, communication 90 %.
APP_REVIEWS = {
    "de": [
        ("9001", "fahrgast_berlin", "2026-11-19T08:12:00-07:00", 1, "App stürzt ab",
         "Seit dem Update stürzt die App bei jeder Buchung ab. Kein Support erreichbar.", "4.2.0"),
        ("9002", "Mia_K", "2026-11-11T17:40:00-07:00", 5, "Super schnell",
         "Fahrer war in drei Minuten da, sehr freundlich und pünktlich.", "4.2.0"),
        ("9003", "TomBln", "2026-11-03T06:05:00-07:00", 2, "Keine Infos",
         "Fahrt storniert ohne Benachrichtigung. Ich stand 20 Minuten im Regen.", "4.1.3"),
        ("9004", "Sabine", "2026-10-21T21:00:00-07:00", 3, "Geht so",
         "Preise sind okay, aber die Wartezeit am Abend ist oft lang.", "4.1.3"),
    ],
    "es": [
        ("9101", "lucia_bcn", "2026-11-16T10:00:00-07:00", 2, "Sin respuesta",
         "Me cobraron dos veces y el soporte no responde a mis correos.", "4.2.0"),
        ("9102", "jorge", "2026-11-02T13:22:00-07:00", 5, "Excelente",
         "Conductor amable, coche limpio y precio justo. La mejor app de transporte.", "4.1.3"),
        ("9103", "ana.r", "2026-10-18T09:15:00-07:00", 1, "Fatal",
         "La aplicación no me avisó de la cancelación. Perdí mi tren.", "4.1.3"),
    ],
    "ru": [
        ("9201", "alexey", "2026-11-13T07:30:00-07:00", 2, "Нет уведомлений",
         "Приложение не сообщает об отмене поездки. Поддержка молчит уже неделю.", "4.2.0"),
        ("9202", "marina", "2026-10-30T19:45:00-07:00", 4, "Удобно",
         "Удобное приложение, водители вежливые. Иногда долго ждать машину.", "4.1.3"),
    ],
}
MASTODON = [
    # (id, account, date, language, html, reblog)
    ("113500000000000005", "commuter@social.example", "2026-11-21T07:50:00.000Z", "en",
     "<p>Third time this week <a href=\"https://social.example/tags/rapidride\" class=\"mention hashtag\">#<span>RapidRide</span></a> cancelled my ride without any notification. Great communication, folks 🙄</p>", False),
    ("113500000000000004", "velo@berlin.example", "2026-11-19T18:20:00.000Z", "de",
     "<p>Fahrer von <a href=\"https://berlin.example/tags/rapidride\">#RapidRide</a> heute super freundlich und pünktlich. So soll es sein!</p>", False),
    ("113500000000000003", "boost@social.example", "2026-11-18T12:00:00.000Z", "en",
     "<p>boosted</p>", True),
    ("113500000000000002", "emma@toot.example", "2026-11-12T09:05:00.000Z", "sv",
     "<p>Väntade 25 minuter på en <a href=\"https://toot.example/tags/rapidride\">#rapidride</a> bil och fick ingen information alls. Dåligt.</p>", False),
    ("113500000000000001", "pierre@masto.example", "2026-11-02T16:45:00.000Z", "fr",
     "<p>Application <a href=\"https://masto.example/tags/rapidride\">#RapidRide</a> correcte, prix raisonnables, mais le support ne répond jamais.</p>", False),
]
FEED = [
    # (guid, date, title, html, language)
    ("feed-1", "Mon, 16 Nov 2026 09:00:00 +0100", "RapidRide fined over missing cancellation notices",
     "<p>Berlin's consumer office fined <b>RapidRide</b> after hundreds of complaints that riders were "
     "not informed when trips were cancelled.</p>", "en"),
    ("feed-2", "Thu, 05 Nov 2026 14:30:00 +0100", "Neue Fahrrad-Spuren in Mitte",
     "<p>Der Senat eröffnet drei neue Radwege.</p>", "de"),
    ("feed-3", "Tue, 20 Oct 2026 08:15:00 +0200", "Rapid Ride: Kunden loben neue Preise",
     "<p>Viele Kunden finden die neuen Tarife von Rapid Ride fair, die Wartezeiten bleiben aber lang.</p>", "de"),
]


# The App Store in the UK: a month of ordinary reviews, then the last day's burst of one-star
# reviews after a broken update. Dates are relative to the moment the demo site serves the
# feed (`@@now-<minutes>@@`, crawler/demo_site.py), so the burst is always in the last 24
# hours when `make demo` runs, and `reviewwatch alerts` finds it.
UK_ORDINARY = [
    (5, "Reliable", "Driver arrived in four minutes and the car was spotless."),
    (4, "Good value", "Fair prices and polite drivers. The map is a bit slow to load."),
    (5, "Great for airport runs", "Booked at 5am, the driver was early and helped with the bags."),
    (4, "Does the job", "Quick pick-up most evenings, friendly drivers."),
    (2, "Long wait", "Waited 25 minutes on a Friday night with no update in the app."),
    (5, "Love it", "Clean cars, kind drivers and the receipt arrives straight away."),
    (3, "Okay", "Works fine but the estimated price is often lower than the final one."),
    (4, "Solid app", "Easy to book and to pay. Customer support answered within a day."),
    (5, "Best in town", "Never had a problem, always on time."),
    (1, "Charged twice", "I was charged twice for one ride and support has not replied."),
    (4, "Handy", "Good for short trips across town, drivers know the way."),
    (5, "Friendly", "The driver waited while I picked up my mother, no extra charge."),
]
UK_BURST = [
    "Since the update the app crashes every time I try to pay. Stuck on the street.",
    "New version 4.3.0 crashes at checkout. Missed my train because of it.",
    "App freezes after the update, cannot book anything. Fix it please!",
    "Crashes on launch since this morning's update. Useless.",
    "Payment screen crashes, tried five times. Booked a competitor instead.",
    "Updated today and now the app closes as soon as I choose a destination.",
    "Cannot pay, app crashes. No message from support either.",
    "The update broke everything: crash on every booking attempt.",
]


def uk_reviews() -> list[tuple[str, str, str, int, str, str]]:
    """(id, author, date placeholder, stars, title, text): 28 days of ordinary reviews, then
    eight one- and two-star reviews within the last 20 hours."""
    reviews = []
    for day in range(1, 29):
        for k in range(1 + (day * 7) % 3 // 2):  # one or two a day, always the same
            stars, title, text = UK_ORDINARY[(day * 5 + k * 7) % len(UK_ORDINARY)]
            minutes = day * 1440 + (day * 137 + k * 311) % 1200 + 60
            reviews.append((f"95{day:02d}{k}", f"uk_rider_{day}_{k}", f"@@now-{minutes}@@", stars,
                            title, text))
    for i, text in enumerate(UK_BURST):
        reviews.append((f"9600{i}", f"angry_rider_{i}", f"@@now-{40 + i * 140}@@", 1 + i % 2,
                        "App crashes since the update", text))
    return sorted(reviews, key=lambda r: int(r[2][6:-2]))  # newest first, as Apple lists them


def script_json(data: object) -> str:
    """JSON safe inside a <script> element, as Next.js and most sites write it."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def write(path: str, text: str) -> None:
    target = ROOT / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def page(title: str, body: str, head: str = "") -> str:
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title>{head}</head>\n<body>\n{body}\n</body></html>\n")


def aurora_review_ld(r: tuple) -> dict:
    rid, author, date, stars, lang, title, body = r
    return {"@type": "Review", "@id": f"http://127.0.0.1:8765/reviews/cafe-aurora/#{rid}",
            "author": {"@type": "Person", "name": author}, "datePublished": date, "inLanguage": lang,
            "name": title, "reviewBody": body,
            "reviewRating": {"@type": "Rating", "ratingValue": stars, "bestRating": 5, "worstRating": 1}}


def aurora_pages() -> None:
    first, second, third = AURORA[:6], AURORA[6:12], AURORA[12:]
    ld = {"@context": "https://schema.org", "@type": "CafeOrCoffeeShop", "name": "Café Aurora",
          "url": "http://127.0.0.1:8765/cafe-aurora/",
          "aggregateRating": {"@type": "AggregateRating", "ratingValue": 2.6, "reviewCount": 18},
          "review": [aurora_review_ld(r) for r in first]
          + [{"@type": "Review", "itemReviewed": {"@type": "CafeOrCoffeeShop", "name": "Kafé Norrsken"},
              "author": {"@type": "Person", "name": "Someone"}, "datePublished": "2026-11-01",
              "reviewBody": "A review of the café next door, shown on the same page.",
              "reviewRating": {"@type": "Rating", "ratingValue": 4}}]}
    body = ("<h1>Café Aurora – guest reviews (1/3)</h1>\n"
            + "".join(f"<article><h2>{html.escape(r[5])}</h2><p>{html.escape(r[6])}</p></article>\n" for r in first)
            + '<a rel="next" href="page-2.html">next</a>')
    write("reviews/cafe-aurora/index.html", page("Café Aurora reviews", body,
          f'<script type="application/ld+json">{script_json(ld)}</script>'
          '<link rel="next" href="page-2.html">'))
    items = []
    for rid, author, date, stars, lang, title, text in second:
        items.append(
            f'<div itemprop="review" itemscope itemtype="https://schema.org/Review" lang="{lang}">'
            f'<link itemprop="url" href="http://127.0.0.1:8765/reviews/cafe-aurora/page-2.html#{rid}">'
            f'<h2 itemprop="name">{html.escape(title)}</h2>'
            f'<span itemprop="author" itemscope itemtype="https://schema.org/Person"><span itemprop="name">{html.escape(author)}</span></span>'
            f'<meta itemprop="datePublished" content="{date}"><meta itemprop="inLanguage" content="{lang}">'
            f'<div itemprop="reviewRating" itemscope itemtype="https://schema.org/Rating"><meta itemprop="ratingValue" content="{stars}"><meta itemprop="bestRating" content="5"></div>'
            f'<p itemprop="reviewBody">{html.escape(text)}</p></div>\n')
    body = ('<div itemscope itemtype="https://schema.org/CafeOrCoffeeShop"><h1 itemprop="name">Café Aurora</h1>\n'
            + "".join(items) + '</div>\n<a rel="next" href="page-3.html">next</a>')
    write("reviews/cafe-aurora/page-2.html", page("Café Aurora reviews (2/3)", body))
    items = []
    for rid, author, date, stars, lang, title, text in third:
        items.append(
            f'<div property="review" typeof="Review" resource="http://127.0.0.1:8765/reviews/cafe-aurora/page-3.html#{rid}">'
            f'<h2 property="name">{html.escape(title)}</h2>'
            f'<span property="author" typeof="Person"><span property="name">{html.escape(author)}</span></span>'
            f'<meta property="datePublished" content="{date}"><meta property="inLanguage" content="{lang}">'
            f'<span property="reviewRating" typeof="Rating"><meta property="ratingValue" content="{stars}"><meta property="bestRating" content="5"></span>'
            f'<p property="reviewBody">{html.escape(text)}</p></div>\n')
    body = ('<div vocab="https://schema.org/" typeof="CafeOrCoffeeShop"><h1 property="name">Café Aurora</h1>\n'
            + "".join(items) + "</div>")
    write("reviews/cafe-aurora/page-3.html", page("Café Aurora reviews (3/3)", body))


# When the hotel answered (hours after the review): the follow-up's response times.
REPLY_HOURS = {"tp-l02": 5, "tp-l04": 20, "tp-l07": 52}


def _later(date: str, hours: int) -> str:
    at = dt.datetime.fromisoformat(date.replace("Z", "+00:00")) + dt.timedelta(hours=hours)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def lumiere_pages() -> None:
    trustpilot_pages("hotel-lumiere.example", "Hôtel Lumière", LUMIERE, 2.9)


def rivoli_pages() -> None:
    trustpilot_pages("hotel-rivoli.example", "Hôtel Rivoli", RIVOLI, 4.3)


def trustpilot_pages(domain: str, name: str, entries: list, trust_score: float) -> None:
    per_page = 6
    chunks = [entries[i:i + per_page] for i in range(0, len(entries), per_page)]
    for number, chunk in enumerate(chunks, start=1):
        reviews = [{
            "id": rid, "title": title, "text": text, "rating": stars, "language": lang,
            "consumer": {"displayName": author, "countryCode": "FR", "numberOfReviews": 3},
            "dates": {"publishedDate": date, "experiencedDate": date[:10], "updatedDate": None},
            "reply": {"message": reply, "publishedDate": _later(date, REPLY_HOURS.get(rid, 0))}
            if reply else None,
            "labels": {"verification": {"isVerified": True}},
        } for rid, author, date, stars, lang, title, text, reply in chunk]
        data = {"props": {"pageProps": {
            "businessUnit": {"displayName": name, "identifyingName": domain,
                             "trustScore": trust_score, "numberOfReviews": len(entries)},
            "reviews": reviews,
            "filters": {"pagination": {"currentPage": number, "perPage": per_page,
                                       "totalCount": len(entries), "totalPages": len(chunks)}},
        }}, "page": "/review/[businessUnit]", "buildId": "demo"}
        body = (f"<h1>{html.escape(name)} reviews</h1><div id=\"__next\"></div>\n"
                f'<script id="__NEXT_DATA__" type="application/json">{script_json(data)}</script>')
        path = f"trustpilot/review/{domain}" + ("" if number == 1 else f"@page={number}")
        write(f"{path}.html", page(f"{name} | Trustpilot", body))


def rapidride_files() -> None:
    uk = [(rid, author, date, stars, title, text, "4.3.0") for rid, author, date, stars, title, text
          in uk_reviews()]
    for country, reviews in {**APP_REVIEWS, "gb": uk}.items():
        entries = [{"author": {"name": {"label": "RapidRide"}}, "im:name": {"label": "RapidRide"}}]
        for rid, author, date, stars, title, text, version in reviews:
            entries.append({
                "author": {"uri": {"label": f"https://itunes.apple.com/{country}/reviews/id{rid}"},
                           "name": {"label": author}},
                "updated": {"label": date}, "im:rating": {"label": str(stars)}, "im:version": {"label": version},
                "id": {"label": rid}, "title": {"label": title},
                "content": {"label": text, "attributes": {"type": "text"}},
                "link": {"attributes": {"rel": "related", "href": f"https://itunes.apple.com/{country}/review?id={rid}"}},
            })
        feed = {"feed": {"author": {"name": {"label": "iTunes Store"}}, "entry": entries,
                         "title": {"label": "iTunes Store: Customer Reviews"}}}
        write(f"appstore/{country}/rss/customerreviews/page=1/id=1234567890/sortby=mostrecent/json.json",
              json.dumps(feed, ensure_ascii=False, indent=1))
    statuses = [{
        "id": sid, "created_at": date, "language": lang, "uri": f"https://social.example/users/x/statuses/{sid}",
        "url": f"https://social.example/@{acct.split('@')[0]}/{sid}", "content": content,
        "account": {"id": "1", "acct": acct, "display_name": acct.split("@")[0]},
        "reblog": {"id": "1", "content": "<p>original</p>"} if reblog else None,
        "spoiler_text": "", "edited_at": None,
    } for sid, acct, date, lang, content, reblog in MASTODON]
    write("mastodon/api/v1/timelines/tag/rapidride.json", json.dumps(statuses, ensure_ascii=False, indent=1))
    # The business's own account: its posts are kept as its own voice (is_own), boosts skipped.
    write("mastodon/api/v1/accounts/lookup@acct=rapidride.json",
          json.dumps({"id": "7", "acct": "rapidride", "display_name": "RapidRide"}))
    own = [{
        "id": sid, "created_at": date, "language": "en", "uri": f"https://social.example/users/rapidride/statuses/{sid}",
        "url": f"https://social.example/@rapidride/{sid}", "content": content,
        "account": {"id": "7", "acct": "rapidride", "display_name": "RapidRide"},
        "reblog": None, "spoiler_text": "", "edited_at": None,
        # a reply to a customer's post: it marks that post's follow-up item replied
        "in_reply_to_id": reply_to,
    } for sid, date, content, reply_to in [
        ("113500000000000011", "2026-11-21T11:20:00.000Z",
         "<p><span class=\"h-card\"><a href=\"https://social.example/@commuter\">@commuter</a></span> "
         "Sorry! Version 4.2.1 fixes the missing notifications; a ride credit is on its way.</p>",
         "113500000000000005"),
        ("113500000000000010", "2026-11-20T10:00:00.000Z",
         "<p>Version 4.2.1 fixes missing cancellation notifications. Sorry for the trouble! #RapidRide</p>",
         None),
        ("113500000000000009", "2026-11-05T09:00:00.000Z",
         "<p>We are always on time: the fastest pick-up in Berlin. #RapidRide</p>", None),
    ]]
    write("mastodon/api/v1/accounts/7/statuses.json", json.dumps(own, ensure_ascii=False, indent=1))
    items = "".join(
        f"<item><guid>{guid}</guid><title>{html.escape(title)}</title><link>http://127.0.0.1:8765/news/{guid}.html</link>"
        f"<pubDate>{date}</pubDate><description>{html.escape(text)}</description></item>\n"
        for guid, date, title, text, _lang in FEED)
    write("feeds/rapidride.xml", '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
          "<title>Berlin Mobility News</title><link>http://127.0.0.1:8765/news/</link>"
          f"<language>de</language>\n{items}</channel></rss>\n")


OWN_SITES = {
    "cafe-aurora": ("Café Aurora", {"ratingValue": 4.8, "reviewCount": 312}, {
        "index": ["Välkommen till Café Aurora på Södermalm.",
                  "Stockholms vänligaste personal väntar på dig varje morgon.",
                  "The friendliest staff in town – and the best cinnamon buns in Stockholm.",
                  "Open daily 7–19."],
        "about": ["Excellent customer service is our promise, every single day.",
                  "Unser Team ist immer freundlich und aufmerksam.",
                  "Nous proposons des pâtisseries faites maison."],
    }),
    "hotel-lumiere": ("Hôtel Lumière", {"ratingValue": 4.6, "reviewCount": 1280}, {
        "index": ["Bienvenue à l'Hôtel Lumière, au cœur du Marais.",
                  "Des chambres d'une propreté impeccable, toujours.",
                  "Le meilleur accueil de Paris, 24 heures sur 24.",
                  "Check-in takes less than five minutes: no waiting, always fast."],
        "services": ["98 % de nos clients sont satisfaits de leur séjour.",
                     "Nous répondons à chaque avis sous 48 heures.",
                     "Las habitaciones más limpias del barrio.",
                     "Petit-déjeuner servi de 7h à 11h."],
    }),
    "rapidride": ("RapidRide", {"ratingValue": 4.7, "reviewCount": 25400}, {
        "index": ["RapidRide – die schnellste Abholung der Stadt.",
                  "We always keep you informed: real-time notifications for every ride.",
                  "Мы всегда на связи: отличная коммуникация с клиентами.",
                  "El mejor servicio de transporte de Berlín."],
        "about": ["Founded in Berlin in 2021.", "Our drivers are friendly and professional."],
    }),
}


def own_sites() -> None:
    for slug, (name, rating, pages) in OWN_SITES.items():
        ld = {"@context": "https://schema.org", "@type": "LocalBusiness", "name": name,
              "url": f"http://127.0.0.1:8765/{slug}/",
              "aggregateRating": {"@type": "AggregateRating", "bestRating": 5, **rating}}
        nav = " | ".join(f'<a href="{p}.html">{p}</a>' if p != "index" else '<a href="./">home</a>' for p in pages)
        for name_, sentences in pages.items():
            head = f'<script type="application/ld+json">{script_json(ld)}</script>' if name_ == "index" else ""
            body = f"<nav>{nav}</nav>\n<h1>{html.escape(name)}</h1>\n" + "".join(f"<p>{html.escape(s)}</p>\n" for s in sentences)
            write(f"{slug}/{name_}.html", page(name, body, head))


if __name__ == "__main__":
    aurora_pages()
    lumiere_pages()
    rivoli_pages()
    rapidride_files()
    own_sites()
    write("robots.txt", "User-agent: *\nDisallow: /private/\n")
    print("demo site written to", ROOT)
