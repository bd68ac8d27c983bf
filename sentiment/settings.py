"""Settings of the sentiment stage (section `[sentiment]`): which model scores, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# torch device names the scorer accepts; "auto" is the first GPU when torch sees one, else the CPU
DEVICE_PATTERN = r"^(auto|cpu|cuda(:[0-9]+)?|mps)$"


class TopicDefinition(BaseModel):
    """One topic of the taxonomy: multilingual descriptions and example sentences.

    Topics the trained head knows (see `sentiment/MODEL.md`) are scored by that head; any other
    topic is scored by embedding similarity to these descriptions and examples.
    """

    model_config = ConfigDict(extra="forbid")

    descriptions: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    threshold: float | None = Field(default=None, ge=0, le=1)

    @field_validator("examples")
    @classmethod
    def _some_text(cls, v: list[str]) -> list[str]:
        return [x for x in v if x.strip()]


def _t(descriptions: list[str], examples: list[str]) -> TopicDefinition:
    return TopicDefinition(descriptions=descriptions, examples=examples)


def default_topics() -> dict[str, TopicDefinition]:
    return {
        "service": _t(
            ["staff attitude, helpfulness and politeness of the people serving customers",
             "accueil et amabilité du personnel", "personalens bemötande och hjälpsamhet",
             "отношение и вежливость персонала", "Freundlichkeit und Hilfsbereitschaft des Personals",
             "atención y amabilidad del personal"],
            ["The waiter was rude to us.", "Le serveur était très aimable.", "Personalen var otrevlig.",
             "Официант был очень вежлив.", "Die Bedienung war unfreundlich.", "El camarero fue muy atento."],
        ),
        "wait_time": _t(
            ["waiting time, delays, slow or fast service, queues",
             "temps d'attente, retard, lenteur", "väntetid, kö, försening", "время ожидания, очередь, задержка",
             "Wartezeit, Verspätung, Warteschlange", "tiempo de espera, retraso, cola"],
            ["We waited an hour for our food.", "Une heure d'attente avant d'être servis.",
             "Vi fick vänta i 45 minuter.", "Ждали заказ больше часа.", "Wir mussten ewig warten.",
             "Tardaron mucho en atendernos.", "The delivery arrived three days late."],
        ),
        "price": _t(
            ["price, cost, value for money, expensive or cheap", "prix, rapport qualité-prix, cher",
             "pris, dyrt, prisvärt", "цена, дорого, дёшево", "Preis, Preis-Leistung, teuer",
             "precio, caro, barato, relación calidad-precio"],
            ["Way too expensive for what you get.", "Les prix sont raisonnables.", "Det var alldeles för dyrt.",
             "Цены завышены.", "Gutes Preis-Leistungs-Verhältnis.", "Muy caro para lo que ofrecen."],
        ),
        "quality": _t(
            ["quality of the product or the food, taste, freshness, defects",
             "qualité du produit ou de la nourriture, goût", "kvalitet på produkten eller maten, smak",
             "качество продукта или еды, вкус", "Qualität des Produkts oder des Essens, Geschmack",
             "calidad del producto o de la comida, sabor"],
            ["The food was delicious.", "Le produit est tombé en panne après une semaine.",
             "Maten var kall och smaklös.", "Еда была очень вкусной.", "Das Essen war ausgezeichnet.",
             "La comida estaba fría."],
        ),
        "cleanliness": _t(
            ["cleanliness, hygiene, dirty or clean rooms, tables and toilets", "propreté, hygiène, sale",
             "renlighet, hygien, smutsigt", "чистота, гигиена, грязно", "Sauberkeit, Hygiene, schmutzig",
             "limpieza, higiene, sucio"],
            ["The toilets were filthy.", "La chambre était très propre.", "Det var smutsigt överallt.",
             "В зале было грязно.", "Der Tisch war klebrig und dreckig.", "Todo estaba muy limpio."],
        ),
        "ambience": _t(
            ["ambience, atmosphere, decor, noise, music", "ambiance, décor, bruit", "atmosfär, miljö, ljudnivå",
             "атмосфера, интерьер, шум", "Atmosphäre, Ambiente, Einrichtung, Lärm", "ambiente, decoración, ruido"],
            ["Lovely cosy atmosphere.", "L'ambiance était trop bruyante.", "Mysig miljö och bra musik.",
             "Очень уютная атмосфера.", "Das Ambiente ist gemütlich.", "El local es muy ruidoso."],
        ),
        "location": _t(
            ["location, view, access, parking, neighbourhood", "emplacement, vue, accès, parking",
             "läge, utsikt, parkering", "расположение, вид, парковка", "Lage, Aussicht, Parkplätze",
             "ubicación, vistas, aparcamiento"],
            ["Great location right by the sea.", "Très bien situé, près de la gare.", "Perfekt läge i centrum.",
             "Удобное расположение рядом с метро.", "Schwer zu finden, keine Parkplätze.",
             "Las vistas son espectaculares."],
        ),
        "communication": _t(
            ["communication: answers to emails, phone calls and messages, customer support replies",
             "réponses aux e-mails, appels et messages", "svar på mejl, samtal och meddelanden",
             "ответы на письма, звонки и сообщения", "Antworten auf E-Mails, Anrufe und Nachrichten",
             "respuestas a correos, llamadas y mensajes"],
            ["Nobody ever answered my emails.", "Ils ne répondent jamais au téléphone.",
             "Kundtjänsten svarade snabbt på mitt mejl.", "На сообщения никто не отвечает.",
             "Auf meine Anfrage kam keine Antwort.", "Respondieron rápido a mi mensaje."],
        ),
        "booking": _t(
            ["booking, reservations, appointments, cancellations", "réservation, rendez-vous, annulation",
             "bokning, reservation, avbokning", "бронирование, запись, отмена", "Reservierung, Buchung, Termin",
             "reserva, cita, cancelación"],
            ["Our reservation was lost.", "Impossible de réserver en ligne.", "Bokningen fungerade smidigt.",
             "Забронировали столик без проблем.", "Die Online-Buchung hat nicht funktioniert.",
             "Cancelaron nuestra reserva sin avisar."],
        ),
    }


class SentimentSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str = Field(
        default="",
        description="Local path or hub id of a transformers model; empty uses the embedded model.",
    )
    batch_size: int = Field(default=32, ge=1, le=1024, description="Texts per scoring batch.")
    weights_dir: str = Field(
        default="",
        description="Folder with trained heads/LoRA adapter (heads.json); empty uses the shipped sentiment/weights.",
    )
    max_length: int = Field(
        default=512, ge=16, le=8192,
        description="Tokens per window; longer texts are split into windows and aggregated.",
    )
    threads: int = Field(default=0, ge=0, le=256, description="CPU threads for inference; 0 lets torch decide.")
    int8: bool = Field(default=False, description="Run most of the encoder's Linear layers in dynamic int8 (sentiment/int8.py).")
    device: str = Field(
        default="auto", pattern=DEVICE_PATTERN,
        description="Where the encoder runs: auto (a GPU when torch sees one and int8 is off), cpu, cuda, cuda:N, mps.",
    )
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        default="auto",
        description="Encoder weights and activations. auto: the fastest path measured to keep quality on the "
                    "hardware found at load (bf16 on GPUs and AMX CPUs, int8 on AVX-512 VNNI CPUs, else fp32); "
                    "bf16 pays on CPUs with AMX and on GPUs, fp16 on GPUs. The resolved precision is part of "
                    "the model version, so scores of different precisions never mix.",
    )
    allow_download: bool = Field(
        default=False, description="Let transformers fetch `model` from the hub; default offline.",
    )
    similarity_threshold: float = Field(
        default=0.0, ge=-1, le=1,
        description="Cosine offset for topics scored by similarity (0 = the value calibrated in heads.json).",
    )
    topics: dict[str, TopicDefinition] = Field(
        default_factory=default_topics,
        description="Topic taxonomy: key -> descriptions and examples (multilingual).",
    )
