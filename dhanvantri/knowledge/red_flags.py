"""The red-flag lexicon: concepts (regular expressions over normalised speech) and the flags
built from them.

Text reaches these patterns lower-cased, with apostrophes removed (``can't`` -> ``cant``) and
punctuation other than sentence ends turned into spaces, so the patterns match unpunctuated
speech-to-text output as well as typed text. A flag fires when every concept of one of its
rules is present and not negated (see :mod:`dhanvantri.knowledge.triage`). Common Hindi and
Hinglish phrasings are included for the India-first deployment.
"""

from __future__ import annotations

from dataclasses import dataclass

_W = r"(?:\w+\s+)"  # one filler word
_NOT = r"(?:cant|cannot|can\s+not|unable\s+to|not\s+able\s+to|couldnt|could\s+not)"

CONCEPTS: dict[str, str] = {
    # --- heart ---
    "chest_pain": (
        rf"(?:chest|seene|seena|sine|chhati|chaati)\s+{_W}{{0,2}}(?:pain|ache|aching|pressure|"
        rf"tightness|tight|heaviness|heavy|discomfort|hurts|hurting|dard)"
        rf"|(?:pain|pressure|tightness|tight|band|heaviness|discomfort|ache)\s+{_W}{{0,5}}"
        r"(?:chest|seene)"
        r"|(?:seene|chhati|chaati|sine)\s+(?:me|mein|main)\s+dard"
        rf"|(?:clutch|grabb|hold)\w*\s+{_W}?chest"
    ),
    "chest_pain_severe": (
        rf"(?:crushing|squeezing|severe|unbearable|intense|terrible|pressure|heaviness)\s+"
        rf"{_W}{{0,3}}(?:chest|seene)|chest\s+{_W}{{0,2}}(?:crushing|squeezing|severe|"
        r"unbearable|intense)|elephant\s+(?:sitting|on)|heavy\s+chest\s+(?:pain|pressure)"
    ),
    "heart_attack": r"heart\s+attack|dil\s+ka\s+daura|cardiac\s+arrest",
    "radiation": (
        rf"(?:radiat\w*|spread\w*|going|goes|moving|travel\w*|shoot\w*|down|into)\s+{_W}{{0,4}}"
        rf"(?:arm|arms|jaw|shoulder|neck|back)\b|(?:left\s+arm|jaw)\s+{_W}{{0,2}}(?:pain|hurts|numb)"
    ),
    "sweating": r"sweat\w*|perspir\w*|pasina|paseena|clammy",
    # --- breathing ---
    "breathless": (
        r"breathless\w*|short(?:ness)?\s+of\s+breath|(?:difficulty|trouble|struggling)\s+(?:in\s+)?"
        r"breath\w*|(?:hard|difficult)\s+to\s+breathe|breathing\s+(?:difficulty|problem|trouble)"
        r"|out\s+of\s+breath|saans\s+(?:phool|fool)\w*|breathing\s+(?:very\s+)?(?:fast|hard)"
    ),
    "cant_breathe": (
        rf"{_NOT}\s+{_W}?breathe|not\s+breathing|stopped\s+breathing|gasping|chok(?:ing|ed)|"
        rf"{_NOT}\s+catch\s+{_W}?breath|(?:barely|hardly)\s+breathe|struggling\s+to\s+breathe|fighting\s+for\s+breath|saans\s+(?:nahi|nahin)\s+(?:aa|le)\w*"
    ),
    "cyanosis": (
        rf"(?:lips?|face|fingers|nails|tongue|skin)\s+{_W}{{0,3}}(?:blue|bluish|purple|grey|gray)"
        rf"|(?:blue|bluish)\s+{_W}{{0,2}}(?:lips|face|fingers|tongue)|cyano\w*|neel[ae]\s+(?:pad|ho)"
        r"|(?:turn\w*|gone|going|went)\s+blue"
    ),
    "cant_talk": (
        rf"{_NOT}\s+(?:even\s+)?(?:speak|talk|say)|too\s+\w+\s+to\s+(?:speak|talk)|"
        r"(?:barely|hardly)\s+(?:speak|talk)"
    ),
    # --- mental health ---
    "suicidal": (
        r"(?:kill|hurt|harm|cut)\w*\s+(?:my\s*self|myself)|suicid\w*|end(?:ing)?\s+(?:my|it)\s+"
        rf"(?:life|all)|take\s+my\s+(?:own\s+)?life|(?:want|wanna|wish|planning|plan)\s+"
        rf"{_W}{{0,2}}die\b|(?:dont|do\s+not)\s+want\s+to\s+(?:live|be\s+alive)|no\s+(?:point|"
        r"reason)\s+(?:in\s+|to\s+)?(?:living|live|life)|better\s+off\s+(?:dead|without\s+me)"
        rf"|self\s*harm\w*|(?:take|swallow|overdose\s+on)\s+all\s+(?:of\s+)?(?:my|the)\s+{_W}?"
        r"(?:pills|tablets|medicines)|a+tm[ae]?hatya|khudkushi|marna\s+chah\w*|jee?na\s+nahi"
        r"|zinda\s+nahi\s+rehna|hang\w*\s+(?:my|him|her)self|jump\w*\s+(?:off|from)\s+(?:a\s+|the\s+)?"
        r"(?:building|bridge|roof|terrace)|not\s+worth\s+living|nothing\s+to\s+live\s+for|slit\w*\s+"
        r"(?:my\s+)?wrists?|wish\s+i\s+(?:was|were)\s+dead|to\s+end\s+(?:it|everything)\b|"
        r"(?:cant|cannot)\s+go\s+on\s+(?:living|anymore)|never\s+wake\s+up\s+again|(?:no|dont\s+"
        r"see\s+any|dont\s+have\s+any|lost\s+(?:the|my|all))\s+reason\s+to\s+(?:go\s+on|live|keep\s+"
        r"going|be\s+alive)|(?:saved|saving|stockpil\w*|collect\w*|hoard\w*)\s+(?:up\s+)?(?:\w+\s+)?"
        r"(?:pills|tablets|medicines)|(?:pills|tablets|medicines)\s+(?:\w+\s+)?(?:saved|stockpiled|"
        r"collected|hoarded)"
    ),
    # --- neurological ---
    "seizure": (
        rf"seizure\w*|convuls\w*|(?:having|had|has|get|gets|getting|got)\s+(?:a\s+|an\s+)?{_W}?"
        rf"fits?\b|\bfits\b|fitting|mirgi|(?:jerk|shak)\w*\s+{_W}{{0,3}}(?:all\s+over|whole\s+"
        rf"body|arms\s+and\s+legs|uncontrollabl\w*)|foam\w*\s+{_W}{{0,3}}mouth|jhatke"
        rf"|eyes\s+{_W}?(?:rolled|rolling)\s+(?:up|back)|(?:whole|entire)\s+body\s+{_W}{{0,2}}"
        r"(?:shak|jerk|twitch)\w*"
    ),
    "unconscious": (
        rf"unconscious|unresponsive|not\s+respond\w*|(?:not|wont|cant|cannot|wouldnt|isnt)\s+"
        rf"{_W}{{0,2}}(?:wake|waking)|pass(?:ed|es|ing)?\s+out|faint(?:ed|ing|s)?\b|collaps\w*|"
        r"black(?:ed)?\s+out|lost\s+consciousness|behosh\w*|hosh\s+nahi"
    ),
    "face_droop": (
        rf"(?:face|smile)\s+{_W}{{0,3}}(?:droop\w*|drop\w*|fallen|falling|crooked|uneven|lopsided|twisted"
        rf"|sagging|paraly\w*)|(?:droop\w*|crooked|twisted|uneven|lopsided)\s+{_W}{{0,2}}"
        rf"(?:face|mouth|smile)|mouth\s+{_W}{{0,3}}(?:crooked|twisted|deviat\w*|droop\w*|"
        r"slant\w*)|muh\s+(?:tedha|terha)"
    ),
    "slurred_speech": (
        rf"slurr\w*|(?:speech|words|talking|speaking)\s+{_W}{{0,3}}(?:slurr\w*|jumbled|garbled|"
        r"unclear|not\s+clear|funny|strange|weird|thick)|(?:talking|speaking)\s+(?:funny|"
        rf"strange|weird|gibberish)|{_NOT}\s+(?:speak|talk)\s+(?:properly|clearly|normally)|"
        rf"{_NOT}\s+find\s+{_W}?words|(?:trouble|difficulty)\s+(?:speaking|talking)|zubaan\s+\w*\s*(?:latak|ladkhada)\w*"
    ),
    "one_sided_weakness": (
        rf"(?:one|left|right)\s+side\s+{_W}{{0,4}}(?:weak\w*|numb\w*|paraly\w*|not\s+moving|"
        rf"dead|tingl\w*)|(?:weak\w*|numb\w*|paraly\w*)\s+{_W}{{0,3}}(?:one\s+side|left\s+"
        rf"side|right\s+side|left\s+(?:arm|leg|hand)|right\s+(?:arm|leg|hand))|{_NOT}\s+"
        rf"(?:move|lift|raise|use|feel)\s+(?:my\s+|his\s+|her\s+)?(?:left|right)\s+(?:arm|leg|"
        rf"hand|side)|(?:left|right)\s+(?:arm|leg|hand)\s+{_W}{{0,4}}(?:weak\w*|numb\w*|paraly"
        rf"\w*|not\s+moving|limp|dead|gave\s+(?:way|out)|not\s+working)|half\s+(?:of\s+)?"
        rf"(?:my\s+|his\s+|her\s+)?body\s+{_W}{{0,2}}(?:weak|numb|paraly\w*)"
        r"|lakwa|paralysis\s+attack"
    ),
    "stroke": r"\bstroke\b|brain\s+attack",
    "thunderclap": (
        rf"worst\s+{_W}{{0,2}}headache|headache\s+{_W}{{0,5}}worst|thunderclap|sudden\w*\s+"
        rf"{_W}{{0,3}}(?:severe|terrible|excruciating|explosive|intense|worst)\s+{_W}?headache"
        rf"|headache\s+{_W}{{0,3}}(?:like\s+(?:being\s+)?(?:hit|struck)|explod\w*)|explod\w*\s+"
        rf"{_W}{{0,2}}(?:head|headache)"
    ),
    "head_injury": (
        rf"(?:hit|hurt|injur\w*|bang\w*|struck)\s+{_W}{{0,2}}head|head\s+(?:injur\w*|trauma)"
        rf"|fell\s+{_W}{{0,4}}head"
    ),
    "head_injury_sign": (
        r"vomit\w*|unconscious|passed\s+out|confus\w*|drowsy|seizure|bleeding\s+from\s+(?:the\s+)?"
        r"(?:ear|nose)|blood\s+from\s+(?:the\s+|his\s+|her\s+)?ear|not\s+making\s+sense"
    ),
    # --- bleeding ---
    "heavy_bleeding": (
        rf"(?:bleeding|bleeds|bleed)\s+{_W}{{0,5}}(?:heavily|a\s+lot|lots|profusely|badly|non\s*"
        r"stop|continuously|wont\s+stop|not\s+stopping|doesnt\s+stop|isnt\s+stopping|hasnt\s+"
        r"stopped)|(?:heavy|severe|profuse|massive|uncontrolled|lot\s+of|lots\s+of|so\s+much|"
        rf"too\s+much)\s+{_W}?(?:bleeding|blood)|(?:wont|cant|not|doesnt)\s+stop\s+(?:the\s+)?"
        rf"bleeding|spurt\w*|(?:blood|bleeding)\s+(?:is\s+)?(?:pouring|gushing|streaming)|soak\w*\s+{_W}{{0,3}}(?:pad|pads|cloth|towel)|cough\w*\s+(?:up\s+)?"
        rf"{_W}{{0,2}}blood|blood\s+everywhere|khoon\s+{_W}{{0,2}}(?:ruk\s+nahi|bahut)"
    ),
    "gi_bleeding": (
        rf"(?:vomit\w*|throw\w*\s+up|threw\s+up)\s+{_W}{{0,3}}blood|blood\s+{_W}{{0,2}}(?:vomit"
        rf"\w*|in\s+(?:my\s+|the\s+|his\s+|her\s+)?vomit)|(?:black|tarry|tar\s+like)\s+{_W}{{0,2}}"
        rf"(?:stool|stools|poo|potty|motion|motions|latrine)|(?:stool|stools|poo|potty|motions?)"
        rf"\s+{_W}{{0,3}}(?:black|tarry)|coffee\s+grounds?|khoon\s+(?:ki|ka)\s+(?:ulti|ultee)|"
        r"ulti\s+(?:me|mein)\s+khoon"
    ),
    # --- pregnancy ---
    "pregnant": (
        r"pregnan\w*|expecting\s+(?:a\s+)?baby|garbh\w*|gestation|(?:weeks|months)\s+along"
    ),
    "pregnancy_bleeding": (
        rf"(?<!gum\s)(?<!gums\s)(?<!nose\s)bleed\w*|spotting|blood\s+{_W}{{0,2}}(?:vagina\w*|"
        rf"down\s+there|private)|khoon\s+(?:aa|aana|ja|jaa|nikal)\w*|blood\s+(?:is\s+)?(?:coming|came|flowing|passing)|waters?\s+{_W}{{0,2}}"
        rf"(?:broke|break|leak\w*)|leak\w*\s+{_W}{{0,2}}"
        r"(?:water|fluid)"
    ),
    "severe_abdominal_pain": (
        rf"(?:severe|bad|terrible|unbearable|intense|sharp|very\s+bad)\s+{_W}{{0,3}}(?:pain|"
        rf"cramp\w*|ache)\s+{_W}{{0,3}}(?:stomach|abdomen|belly|tummy|pet)|(?:severe|bad|"
        r"unbearable|intense|sharp|terrible)\s+(?:stomach|abdominal|belly|tummy|lower\s+"
        r"abdominal)\s+"
        rf"(?:pain|ache|cramp\w*)|(?:stomach|abdominal|belly|tummy|pet)\s+{_W}{{0,2}}(?:pain|dard)"
        rf"\s+{_W}{{0,2}}(?:severe|very\s+bad|unbearable)"
    ),
    "pregnancy_danger_sign": (
        rf"baby\s+{_W}{{0,2}}(?:not\s+moving|stopped\s+moving|isnt\s+moving|hasnt\s+moved|moving"
        r"\s+less|not\s+kicking)|(?:no|reduced|less|decreased)\s+(?:fetal\s+|foetal\s+|baby\s+)?"
        rf"movements?|headache\s+{_W}{{0,4}}(?:blurr\w*|vision)|(?:blurr\w*|vision)\s+{_W}{{0,4}}"
        r"headache"
    ),
    # --- allergy ---
    "throat_swelling": (
        rf"throat\s+{_W}{{0,3}}(?:swell\w*|swollen|closing|close\s+up|tight\w*|blocked)|"
        rf"(?:swell\w*|swollen)\s+{_W}{{0,2}}throat|anaphyla\w*"
    ),
    "face_swelling": (
        rf"(?:tongue|lips?|face|eyes?)\s+{_W}{{0,4}}(?:swell\w*|swollen|puff\w*\s+up)|(?:swell"
        rf"\w*|swollen)\s+{_W}{{0,2}}(?:tongue|lips|face)"
    ),
    "wheeze": r"wheez\w*",
    # --- infection ---
    "fever": r"fever|febrile|high\s+temperature|bukha+r|burning\s+up",
    "stiff_neck": (
        rf"(?:stiff|rigid)\s+{_W}?neck|neck\s+{_W}{{0,2}}(?:stiff\w*|rigid)|{_NOT}\s+(?:bend|move"
        rf"|touch)\s+{_W}{{0,3}}(?:neck|chin\s+to)|gardan\s+{_W}?akad"
    ),
    "confusion": (
        r"confus\w*|disorient\w*|not\s+making\s+sense|(?:talking|speaking)\s+nonsense|delirious"
        r"|not\s+recogni[sz]\w*\s+(?:us|me|anyone|people)|very\s+drowsy|hard\s+to\s+wake"
    ),
    "non_blanching_rash": (
        rf"(?:purple|purplish|dark\s+red)\s+{_W}{{0,2}}(?:rash|spots)|rash\s+{_W}{{0,3}}(?:doesnt"
        r"|does\s+not|dont|wont)\s+(?:fade|blanch|go\s+away\s+when\s+(?:i\s+|you\s+)?press\w*)|"
        r"non\s*blanch\w*"
    ),
    # --- children ---
    "child": (
        r"\b(?:baby|babies|infant|child|children|kid|kids|toddler|son|daughter|newborn|bachch?[ae]"
        r"|beti|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:year|yr|month|week)s?"
        r"\s*old)\b"
    ),
    "dehydration_sign": (
        rf"sunken\s+(?:eyes|fontanelle)|(?:eyes|fontanelle|soft\s+spot)\s+{_W}{{0,2}}sunken|(?:not"
        rf"|hasnt|havent|no|didnt|hasnt\s+been)\s+{_W}{{0,2}}(?:pass\w*|peed|pee\w*|urinat\w*)\s+"
        r"(?:urine)?|no\s+(?:urine|wet\s+nappies|wet\s+diapers?|pee)|(?:no|without)\s+tears|"
        r"not\s+(?:drinking|feeding|taking\s+(?:feeds|milk|fluids))|(?:refus\w*|unable\s+to)\s+"
        r"(?:drink|feed)|too\s+weak\s+to\s+(?:cry|drink|feed|suck)|lethargic|floppy|\blimp\b|very\s+(?:drowsy|sleepy)|skin\s+pinch\s+"
        rf"{_W}{{0,3}}slow\w*|peshab\s+nahi"
        rf"|(?:not|hasnt|havent|no|didnt)\s+{_W}{{0,2}}wet\s+{_W}?(?:nappy|nappies|diapers?)"
    ),
    "severe_dehydration": r"severe(?:ly)?\s+dehydrat\w*",
    # --- poisoning, bites, burns ---
    "poisoning": (
        rf"poison\w*|overdos\w*|(?:drank|drunk|swallowed|ate|consumed|took|taken|had)\s+{_W}{{0,3}}"
        r"(?:kerosene|petrol|diesel|pesticide|insecticide|rat\s+kill\w*|phenyl|phenol|bleach|acid|"
        r"harpic|toilet\s+cleaner|organophosphate|weed\s*killer|mosquito\s+(?:liquid|repellent)|"
        rf"zeher|zehar)|(?:took|taken|swallowed|ate|had|consumed)\s+{_W}{{0,2}}(?:\d+(?:\.\d+)?|many|too\s+"
        r"many|lots\s+of|a\s+lot\s+of|handful\s+of|whole\s+(?:bottle|strip|packet)|all\s+(?:my|"
        rf"the|his|her))\s+{_W}{{0,2}}(?:tablets|pills|capsules|medicines|tabs)|ze(?:he|ha|h)r\b"
        r"|(?:drank|drunk|swallowed|ate|consumed|took|had)\s+(?:a|an|the|whole|full|entire)\s+"
        r"(?:\w+\s+)?(?:bottle|strip|packet)"
    ),
    "envenomation": (
        r"snake\s*(?:bite|bit|bitten)|(?:bitten|bit|stung)\s+by\s+(?:a\s+)?(?:snake|scorpion|cobra"
        rf"|krait|viper)|(?:snake|scorpion|cobra|krait|viper)\s+{_W}{{0,2}}(?:bit|bite|bitten|"
        r"sting|stung)\b|scorpion\s+sting|sa+n?p\s+(?:ne\s+)?(?:kaat|kata|kaata|dasa|das)\w*|"
        r"bichhu\s+(?:ne\s+)?(?:kaat|kata|dank)\w*"
    ),
    "bitten": r"(?:bit|bitten|bite)\b",
    "snake": r"snakes?\b|cobra|krait|viper|saa?np\b",
    "severe_burn": (
        rf"(?:big|large|severe|bad|deep|major|huge|serious)\s+{_W}{{0,2}}burns?\b|\bburn\w*\s+"
        rf"{_W}{{0,4}}(?:face|whole|all\s+over)|electric\w*\s+(?:shock|burn)|(?:boiling|hot)\s+"
        rf"(?:water|oil|milk)\s+{_W}{{0,3}}(?:spill\w*|fell|poured|burn\w*)|spill\w*\s+{_W}{{0,2}}"
        r"(?:boiling|hot)\s+(?:water|oil)|acid\s+(?:attack|burn)|caught\s+fire|on\s+fire"
    ),
}


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A red flag: fires when all concepts of any one rule are present and not negated."""

    id: str
    label: str
    rules: tuple[tuple[str, ...], ...]
    first_aid: str


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag("chest_pain", "chest pain with features of a heart attack",
            (("chest_pain", "radiation"), ("chest_pain", "sweating"), ("chest_pain", "breathless"),
             ("chest_pain_severe",), ("heart_attack",)),
            "Sit down and rest; do not drive yourself."),
    RedFlag("stroke", "signs of a stroke",
            (("face_droop",), ("slurred_speech",), ("one_sided_weakness",), ("stroke",)),
            "Note the time the symptoms started and give nothing to eat or drink."),
    RedFlag("breathing", "severe breathing difficulty",
            (("cant_breathe",), ("cyanosis",), ("breathless", "cant_talk"),
             ("wheeze", "cant_talk")),
            "Sit upright and use a reliever inhaler if you have one."),
    RedFlag("suicidal", "thoughts of suicide or self-harm", (("suicidal",),),
            "If you can, stay with someone you trust and keep medicines and sharp objects away."),
    RedFlag("seizure", "a seizure (fit)", (("seizure",),),
            "Lay the person on their side, move hard objects away and put nothing in the mouth."),
    RedFlag("unconscious", "unconsciousness or fainting", (("unconscious",),),
            "Lay the person on their side and check that they are breathing."),
    RedFlag("heavy_bleeding", "heavy bleeding", (("heavy_bleeding",),),
            "Press firmly on the bleeding point with a clean cloth and keep pressing."),
    RedFlag("gi_bleeding", "vomiting blood or black stools", (("gi_bleeding",),),
            "Lie down and take nothing by mouth."),
    RedFlag("pregnancy_emergency", "a danger sign in pregnancy",
            (("pregnant", "pregnancy_bleeding"), ("pregnant", "severe_abdominal_pain"),
             ("pregnant", "pregnancy_danger_sign"), ("pregnant", "seizure")),
            "Go to the nearest hospital with a labour room; lie on your left side on the way."),
    RedFlag("thunderclap_headache", "a sudden, worst-ever headache", (("thunderclap",),),
            "Do not wait for painkillers to work; this needs a scan today."),
    RedFlag("anaphylaxis", "a severe allergic reaction",
            (("throat_swelling",), ("face_swelling", "breathless"), ("face_swelling", "wheeze"),
             ("face_swelling", "cant_breathe")),
            "Use an adrenaline auto-injector if you have one; lie down with legs raised, or sit "
            "up if breathing is hard."),
    RedFlag("meningitis", "fever with a stiff neck, confusion or a purple rash",
            (("fever", "stiff_neck"), ("fever", "confusion"), ("non_blanching_rash",)),
            "This needs urgent antibiotics in hospital."),
    RedFlag("child_dehydration", "severe dehydration",
            (("child", "dehydration_sign"), ("severe_dehydration",)),
            "Keep giving ORS in small sips on the way."),
    RedFlag("poisoning", "poisoning or overdose", (("poisoning",),),
            "Do not make them vomit; take the bottle, strip or container with you."),
    RedFlag("envenomation", "a snake bite or scorpion sting",
            (("envenomation",), ("bitten", "snake")),
            "Keep still and keep the bitten limb still and low; do not cut, suck or tie the "
            "wound."),
    RedFlag("head_injury", "a head injury with warning signs",
            (("head_injury", "head_injury_sign"),),
            "Keep the person still and give nothing to eat or drink."),
    RedFlag("severe_burn", "a serious burn", (("severe_burn",),),
            "Cool the burn under clean running water for 20 minutes; no ice, oil or toothpaste."),
)
