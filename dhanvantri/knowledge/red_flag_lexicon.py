"""The red-flag lexicon: named concepts, each a tuple of alternative regular expressions.

Patterns run over normalised speech (lower case, apostrophes removed so ``can't`` is ``cant``,
punctuation other than sentence ends turned into spaces), so they match unpunctuated
speech-to-text output as well as typed text. ``_W`` is one filler word; ``_NOT`` the ways of
saying "cannot". Common Hindi and Hinglish phrasings are included for the India-first
deployment. :mod:`dhanvantri.knowledge.red_flags` combines concepts into flags.
"""

from __future__ import annotations

_W = r"(?:\w+\s+)"  # one filler word
_NOT = r"(?:cant|cannot|can\s+not|unable\s+to|not\s+able\s+to|couldnt|could\s+not)"

CONCEPTS: dict[str, tuple[str, ...]] = {
    "chest_pain": (
        rf"(?:chest|seene|seena|sine|chhati|chaati)\s+{_W}{{0,2}}(?:pain|ache|aching|pressure|"
        r"tightness|tight|heaviness|heavy|discomfort|hurts|hurting|dard)",
        rf"(?:pain|pressure|tightness|tight|band|heaviness|discomfort|ache)\s+{_W}{{0,5}}(?:chest|"
        r"seene)",
        r"(?:seene|chhati|chaati|sine)\s+(?:me|mein|main)\s+dard",
        rf"(?:clutch|grabb|hold)\w*\s+{_W}?chest",
        rf"(?:pain|pressure|ache)\s+{_W}{{0,3}}(?:breastbone|sternum)",
    ),
    "chest_pain_severe": (
        r"(?:crushing|squeezing|severe|unbearable|intense|terrible|pressure|heaviness)"
        rf"\s+{_W}{{0,3}}(?:chest|seene|breastbone|sternum)",
        rf"chest\s+{_W}{{0,2}}(?:crushing|squeezing|severe|unbearable|intense)",
        r"elephant\s+(?:sitting|on)",
        r"heavy\s+chest\s+(?:pain|pressure)",
    ),
    "heart_attack": (
        r"heart\s+attack",
        r"dil\s+ka\s+daura",
        r"cardiac\s+arrest",
    ),
    "radiation": (
        r"(?:radiat\w*|spread\w*|going|goes|moving|travel\w*|shoot\w*|down|into)"
        rf"\s+{_W}{{0,4}}(?:arm|arms|jaw|shoulder|neck|back)\b",
        rf"(?:left\s+arm|jaw)\s+{_W}{{0,2}}(?:pain|hurts|numb)",
    ),
    "sweating": (
        r"sweat\w*",
        r"perspir\w*",
        r"pasina",
        r"paseena",
        r"clammy",
    ),
    "breathless": (
        r"breathless\w*",
        r"short(?:ness)?\s+of\s+breath",
        r"(?:difficulty|trouble|struggling)\s+(?:in\s+)?breath\w*",
        r"(?:hard|difficult)\s+to\s+breathe",
        r"breathing\s+(?:difficulty|problem|trouble)",
        r"out\s+of\s+breath",
        r"saans\s+(?:phool|fool)\w*",
        r"breathing\s+(?:very\s+)?(?:fast|hard)",
    ),
    "cant_breathe": (
        rf"{_NOT}\s+{_W}?breathe",
        r"(?:not|isnt|wasnt|arent)\s+breathing",
        r"suffocat\w*",
        rf"{_NOT}\s+get\s+{_W}?air",
        r"chest\s+(?:is\s+)?(?:sucking|pulling|caving|drawing)\s+in",
        r"chest\s+indrawing",
        r"stopped\s+breathing",
        r"gasping",
        r"chok(?:ing|ed)",
        rf"{_NOT}\s+catch\s+{_W}?breath",
        r"(?:barely|hardly)\s+breathe",
        r"struggling\s+to\s+breathe",
        r"fighting\s+for\s+breath",
        r"saans\s+(?:nahi|nahin)\s+(?:aa|le)\w*",
    ),
    "cyanosis": (
        rf"(?:lips?|face|fingers|nails|tongue|skin)\s+{_W}{{0,3}}(?:blue|bluish|purple|grey|gray)",
        rf"(?:blue|bluish)\s+{_W}{{0,2}}(?:lips|face|fingers|tongue)",
        r"cyano\w*",
        r"neel[ae]\s+(?:pad|ho)",
        r"(?:turn\w*|gone|going|went)\s+blue",
    ),
    "cant_talk": (
        rf"{_NOT}\s+(?:even\s+)?(?:speak|talk|say)",
        r"too\s+\w+\s+to\s+(?:speak|talk)",
        r"(?:barely|hardly)\s+(?:speak|talk)",
    ),
    "suicidal": (
        rf"(?:written|wrote|writing|left)\s+{_W}?(?:goodbye|suicide)\s+(?:letters?|notes?)",
        r"(?:kill|harm)\w*\s+(?:my\s*self|myself)",
        r"(?:hurt|cut)\w*\s+(?:my\s*self|myself)(?!\s+(?:while|when|shaving|playing|cooking|"
        r"chopping|accidentally|by|during|at|in|on\s+(?:a|the)|falling))",
        r"suicid\w*",
        r"end(?:ing)?\s+(?:my|it)\s+(?:life|all)",
        r"take\s+my\s+(?:own\s+)?life",
        rf"(?:want|wanna|wish|planning|plan)\s+{_W}{{0,2}}die\b",
        r"(?:dont|do\s+not)\s+want\s+to\s+(?:live|be\s+alive)",
        r"no\s+(?:point|reason)\s+(?:in\s+|to\s+)?(?:living|live|life)",
        r"better\s+off\s+(?:dead|without\s+me)",
        r"self\s*harm\w*",
        rf"(?:take|swallow|overdose\s+on)\s+all\s+(?:of\s+)?(?:my|the)\s+{_W}?(?:pills|tablets|"
        r"medicines)",
        r"a+tm[ae]?hatya",
        r"khudkushi",
        r"marna\s+chah\w*",
        r"jee?na\s+nahi",
        r"zinda\s+nahi\s+rehna",
        r"hang\w*\s+(?:my|him|her)self",
        r"jump\w*\s+(?:off|from)\s+(?:a\s+|the\s+)?(?:building|bridge|roof|terrace)",
        r"not\s+worth\s+living",
        r"nothing\s+to\s+live\s+for",
        r"slit\w*\s+(?:my\s+)?wrists?",
        r"wish\s+i\s+(?:was|were)\s+dead",
        r"to\s+end\s+(?:it|everything)\b",
        r"(?:cant|cannot)\s+go\s+on\s+(?:living|anymore)",
        r"never\s+wake\s+up\s+again",
        r"(?:no|dont\s+see\s+any|dont\s+have\s+any|lost\s+(?:the|my|all))\s+reason\s+to\s+(?:go"
        r"\s+on|live|keep\s+going|be\s+alive)",
        rf"(?:saved|saving|stockpil\w*|collect\w*|hoard\w*)\s+(?:up\s+)?{_W}?(?:pills|tablets|"
        r"medicines)",
        rf"(?:pills|tablets|medicines)\s+{_W}?(?:saved|stockpiled|collected|hoarded)",
    ),
    "seizure": (
        r"seizure\w*",
        r"convuls\w*",
        rf"(?:having|had|has|get|gets|getting|got)\s+(?:a\s+|an\s+)?{_W}?fits?\b"
        r"(?!\s+of\s+(?:laughter|laughing|anger|rage|giggles|coughing|sneezing))",
        rf"stiff\w*\s+(?:and\s+)?{_W}{{0,2}}(?:jerk|shak|twitch)\w*",
        r"(?:shak|jerk)\w*\s+and\s+(?:unresponsive|unconscious|not\s+responding)",
        r"fitting\b",
        r"mirgi",
        rf"(?:jerk|shak)\w*\s+{_W}{{0,3}}(?:all\s+over|whole\s+body|arms\s+and\s+legs|"
        r"uncontrollabl\w*)",
        rf"foam\w*\s+{_W}{{0,3}}mouth",
        r"jhatke",
        rf"eyes\s+{_W}?(?:rolled|rolling)\s+(?:up|back)",
        rf"(?:whole|entire)\s+body\s+{_W}{{0,2}}(?:shak|jerk|twitch)\w*",
    ),
    "unconscious": (
        r"unconscious",
        r"unresponsive",
        r"not\s+respond\w*",
        rf"(?:not|wont|cant|cannot|wouldnt|isnt)\s+{_W}{{0,2}}(?:wake|waking)",
        r"pass(?:ed|es|ing)?\s+out(?!\s+(?:of|from)\b)",
        r"faint(?:ed|ing|s)\b",
        r"(?:going|about)\s+to\s+faint",
        r"collaps\w*",
        r"black(?:ed)?\s+out",
        r"lost\s+consciousness",
        r"behosh\w*",
        r"hosh\s+nahi",
        r"(?:dropped|fell)\s+(?:down\s+)?(?:to|on)\s+the\s+(?:floor|ground)\s+and",
    ),
    "face_droop": (
        rf"(?:face|smile)\s+{_W}{{0,3}}(?:droop\w*|drop\w*|fallen|falling|crooked|uneven|lopsided|"
        r"twisted|sagging|paraly\w*)",
        rf"(?:droop\w*|crooked|twisted|uneven|lopsided)\s+{_W}{{0,2}}(?:face|mouth|smile)",
        rf"mouth\s+{_W}{{0,3}}(?:crooked|twisted|deviat\w*|droop\w*|slant\w*)",
        r"muh\s+(?:tedha|terha)",
    ),
    "slurred_speech": (
        r"slurr\w*",
        rf"(?:speech|words|talking|speaking)\s+{_W}{{0,3}}(?:slurr\w*|jumbled|garbled|unclear|not"
        r"\s+clear|funny|strange|weird|thick)",
        r"(?:talking|speaking)\s+(?:funny|strange|weird|gibberish)",
        rf"{_NOT}\s+(?:speak|talk)\s+(?:properly|clearly|normally)",
        rf"{_NOT}\s+find\s+{_W}?words",
        r"(?:trouble|difficulty)\s+(?:speaking|talking)",
        r"zubaan\s+\w*\s*(?:latak|ladkhada)\w*",
    ),
    "one_sided_weakness": (
        rf"(?:one|left|right)\s+side\s+{_W}{{0,4}}(?:weak\w*|numb\w*|paraly\w*|not\s+moving|dead|"
        r"tingl\w*)",
        rf"(?:weak\w*|numb\w*|paraly\w*)\s+{_W}{{0,3}}(?:one\s+side|left\s+side|right\s+side|left"
        r"\s+(?:arm|leg|hand)|right\s+(?:arm|leg|hand))",
        rf"{_NOT}\s+(?:move|lift|raise|use|feel)\s+(?:my\s+|his\s+|her\s+|the\s+)?(?:left|right)"
        r"\s+(?:arm|leg|hand|side)",
        rf"(?:left|right)\s+(?:arm|leg|hand)\s+{_W}{{0,4}}(?:weak\w*|numb\w*|paraly\w*|not"
        r"\s+moving|limp|dead|gave\s+(?:way|out)|not\s+working)",
        rf"half\s+(?:of\s+)?(?:my\s+|his\s+|her\s+)?body\s+{_W}{{0,2}}(?:weak|numb|paraly\w*)",
        r"lakwa",
        r"paralysis\s+attack",
    ),
    "stroke": (
        r"\bstroke\b",
        r"brain\s+attack",
    ),
    "thunderclap": (
        rf"worst\s+{_W}{{0,2}}headache",
        rf"headache\s+{_W}{{0,5}}worst",
        r"thunderclap",
        rf"sudden\w*\s+{_W}{{0,3}}(?:severe|terrible|excruciating|explosive|intense|worst)"
        rf"\s+{_W}?headache",
        rf"headache\s+{_W}{{0,3}}(?:like\s+(?:being\s+)?(?:hit|struck)|explod\w*)",
        rf"explod\w*\s+{_W}{{0,2}}(?:head|headache)",
    ),
    "head_injury": (
        rf"(?:hit|hurt|injur\w*|bang\w*|struck)\s+{_W}{{0,2}}head",
        r"head\s+(?:injur\w*|trauma)",
        rf"fell\s+{_W}{{0,4}}head",
    ),
    "head_injury_sign": (
        r"vomit\w*",
        r"unconscious",
        r"passed\s+out",
        r"confus\w*",
        r"drowsy",
        r"seizure",
        r"bleeding\s+from\s+(?:the\s+)?(?:ear|nose)",
        r"blood\s+from\s+(?:the\s+|his\s+|her\s+)?ear",
        r"not\s+making\s+sense",
    ),
    "heavy_bleeding": (
        rf"(?:bleeding|bleeds|bleed)\s+{_W}{{0,5}}(?:heavily|a\s+lot|lots|profusely|badly|non"
        r"\s*stop|continuously|wont\s+stop|not\s+stopping|doesnt\s+stop|isnt\s+stopping|hasnt"
        r"\s+stopped)",
        r"(?:heavy|severe|profuse|massive|uncontrolled|lot\s+of|lots\s+of|so\s+much|too\s+much)"
        rf"\s+{_W}?(?:bleeding|blood)",
        r"(?:wont|cant|not|doesnt)\s+stop\s+(?:the\s+)?bleeding",
        r"spurt\w*",
        r"(?:blood|bleeding)\s+(?:is\s+)?(?:pouring|gushing|streaming)",
        r"(?:pouring|gushing|streaming)\s+(?:out\s+)?blood",
        rf"soak\w*\s+{_W}{{0,3}}(?:pad|pads|cloth|towel)",
        rf"cough\w*\s+(?:up\s+)?{_W}{{0,2}}blood",
        r"blood\s+everywhere",
        rf"khoon\s+{_W}{{0,2}}(?:ruk\s+nahi|bahut)",
    ),
    "gi_bleeding": (
        rf"(?:vomit\w*|throw\w*\s+up|threw\s+up)\s+{_W}{{0,3}}blood",
        rf"blood\s+{_W}{{0,2}}(?:vomit\w*|in\s+(?:my\s+|the\s+|his\s+|her\s+)?vomit)",
        rf"(?:black|tarry|tar\s+like)\s+{_W}{{0,2}}(?:stool|stools|poo|potty|motion|motions|"
        r"latrine)",
        rf"(?:stool|stools|poo|potty|motions?)\s+{_W}{{0,3}}(?:black|tarry)",
        r"coffee\s+grounds?",
        r"khoon\s+(?:ki|ka)\s+(?:ulti|ultee)",
        r"ulti\s+(?:me|mein)\s+khoon",
    ),
    "pregnant": (
        r"pregnan\w*",
        r"expecting\s+(?:a\s+)?baby",
        r"garbh\w*",
        r"gestation",
        r"(?:weeks|months)\s+along",
    ),
    "pregnancy_bleeding": (
        r"(?<!gum\s)(?<!gums\s)(?<!nose\s)bleed\w*",
        r"spotting",
        rf"blood\s+{_W}{{0,2}}(?:vagina\w*|down\s+there|private)",
        r"khoon\s+(?:aa|aana|ja|jaa|nikal)\w*",
        r"blood\s+(?:is\s+)?(?:coming|came|flowing|passing)",
        rf"waters?\s+{_W}{{0,2}}(?:broke|break|leak\w*)",
        rf"leak\w*\s+{_W}{{0,2}}(?:water|fluid)",
    ),
    "severe_abdominal_pain": (
        rf"(?:severe|bad|terrible|unbearable|intense|sharp|very\s+bad)\s+{_W}{{0,3}}(?:pain|"
        rf"cramp\w*|ache)\s+{_W}{{0,3}}(?:stomach|abdomen|belly|tummy|pet)",
        r"(?:severe|bad|unbearable|intense|sharp|terrible)\s+(?:stomach|abdominal|belly|tummy|"
        r"lower\s+abdominal)\s+(?:pain|ache|cramp\w*)",
        rf"(?:stomach|abdominal|belly|tummy|pet)\s+{_W}{{0,2}}(?:pain|dard)\s+{_W}{{0,2}}(?:severe|"
        r"very\s+bad|unbearable)",
    ),
    "pregnancy_danger_sign": (
        rf"baby\s+{_W}{{0,2}}(?:not\s+moving|stopped\s+moving|isnt\s+moving|hasnt\s+moved|moving"
        r"\s+less|not\s+kicking)",
        r"(?:no|reduced|less|decreased)\s+(?:fetal\s+|foetal\s+|baby\s+)?movements?",
        rf"headache\s+{_W}{{0,4}}(?:blurr\w*|vision)",
        rf"(?:blurr\w*|vision)\s+{_W}{{0,4}}headache",
        rf"{_NOT}\s+see\s+(?:clearly|properly|well)",
    ),
    "throat_swelling": (
        rf"throat\s+{_W}{{0,3}}(?:swell\w*|swollen|closing|close\s+up|tight\w*|blocked)",
        rf"(?:swell\w*|swollen)\s+{_W}{{0,2}}throat",
        r"anaphyla\w*",
    ),
    "face_swelling": (
        rf"(?:tongue|lips?|face|eyes?)\s+{_W}{{0,4}}(?:swell\w*|swollen|puff\w*\s+up)",
        rf"(?:swell\w*|swollen)\s+{_W}{{0,2}}(?:tongue|lips|face)",
    ),
    "wheeze": (
        r"wheez\w*",
    ),
    "chest_tight": (
        rf"chest\s+{_W}{{0,2}}tight\w*",
        rf"tight\w*\s+{_W}{{0,3}}chest",
    ),
    "fever": (
        r"fever",
        r"febrile",
        r"high\s+temperature",
        r"bukha+r",
        r"burning\s+up",
    ),
    "stiff_neck": (
        rf"(?:stiff|rigid)\s+{_W}?neck",
        rf"neck\s+{_W}{{0,2}}(?:stiff\w*|rigid)",
        rf"{_NOT}\s+(?:bend|move|touch)\s+{_W}{{0,3}}(?:neck|chin\s+to)",
        rf"gardan\s+{_W}?akad",
    ),
    "confusion": (
        r"confus\w*",
        r"disorient\w*",
        r"not\s+making\s+sense",
        r"(?:talking|speaking)\s+nonsense",
        r"delirious",
        r"not\s+recogni[sz]\w*\s+(?:us|me|anyone|people)",
        r"very\s+drowsy",
        r"hard\s+to\s+wake",
    ),
    "non_blanching_rash": (
        rf"(?:purple|purplish|dark\s+red)\s+{_W}{{0,2}}(?:rash|spots)",
        rf"rash\s+{_W}{{0,3}}(?:doesnt|does\s+not|dont|wont)\s+(?:fade|blanch|go\s+away\s+when"
        r"\s+(?:i\s+|you\s+)?press\w*)",
        r"non\s*blanch\w*",
    ),
    "child": (
        r"\b(?:baby|babies|infant|child|children|kid|kids|toddler|son|daughter|newborn|"
        r"bachch?[ae]|beti|(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s*(?:year|yr|"
        r"month|week)s?\s*old)\b",
    ),
    "dehydration_sign": (
        r"sunken\s+(?:eyes|fontanelle)",
        rf"(?:eyes|fontanelle|soft\s+spot)\s+{_W}{{0,2}}sunken",
        rf"(?:not|hasnt|havent|no|didnt|hasnt\s+been)\s+{_W}{{0,2}}(?:pass\w*|peed|pee\w*|"
        r"urinat\w*)\s+(?:urine)?",
        r"no\s+(?:urine|wet\s+nappies|wet\s+diapers?|pee)",
        r"(?:no|without)\s+tears",
        r"not\s+(?:drinking|feeding|taking\s+(?:feeds|milk|fluids))",
        r"(?:refus\w*|unable\s+to)\s+(?:drink|feed)",
        r"too\s+weak\s+to\s+(?:cry|drink|feed|suck)",
        r"lethargic",
        r"floppy",
        r"\blimp\b",
        r"very\s+(?:drowsy|sleepy)",
        rf"skin\s+pinch\s+{_W}{{0,3}}slow\w*",
        r"peshab\s+nahi",
        rf"(?:not|hasnt|havent|no|didnt)\s+{_W}{{0,2}}wet\s+{_W}?(?:nappy|nappies|diapers?)",
    ),
    "severe_dehydration": (
        r"severe(?:ly)?\s+dehydrat\w*",
    ),
    "poisoning": (
        r"poison\w*",
        r"overdos\w*",
        rf"(?:drank|drunk|swallowed|ate|consumed|took|taken|had)\s+{_W}{{0,3}}(?:kerosene|petrol|"
        r"diesel|pesticide|insecticide|rat\s+kill\w*|phenyl|phenol|bleach|acid|harpic|toilet"
        r"\s+cleaner|organophosphate|weed\s*killer|mosquito\s+(?:liquid|repellent)|zeher|zehar)",
        rf"(?:took|taken|swallowed|ate|had|consumed)\s+{_W}{{0,2}}(?:(?:[5-9]|\d{{2,}})(?:\.\d+)?"
        r"|five|six|seven|eight|nine|ten|\w+teen|twenty|thirty|many|too\s+many|lots\s+of|"
        r"a\s+lot\s+of|handful"
        rf"\s+of|whole\s+(?:bottle|strip|packet)|all\s+(?:my|the|his|her))\s+{_W}{{0,2}}(?:tablets|"
        r"pills|capsules|medicines|tabs)",
        r"ze(?:he|ha|h)r\b",
        r"(?:drank|drunk|swallowed|ate|consumed|took|had)\s+(?:a|an|the|whole|full|entire)"
        rf"\s+{_W}?(?:bottle|strip|packet)",
    ),
    "envenomation": (
        r"snake\s*(?:bite|bit|bitten)",
        r"(?:bitten|bit|stung)\s+by\s+(?:a\s+)?(?:snake|scorpion|cobra|krait|viper)",
        rf"(?:snake|scorpion|cobra|krait|viper)\s+{_W}{{0,2}}(?:bit|bite|bitten|sting|stung)\b",
        r"scorpion\s+sting",
        r"sa+n?p\s+(?:ne\s+)?(?:kaat|kata|kaata|dasa|das)\w*",
        r"bichhu\s+(?:ne\s+)?(?:kaat|kata|dank)\w*",
    ),
    "bitten": (
        r"(?:bit|bitten|bite)\b",
    ),
    "snake": (
        r"snakes?\b",
        r"cobra",
        r"krait",
        r"viper",
        r"saa?np\b",
    ),
    "severe_burn": (
        rf"(?:big|large|severe|bad|deep|major|huge|serious)\s+{_W}{{0,2}}burns?\b",
        rf"\bburn\w*\s+{_W}{{0,4}}(?:face|whole|all\s+over)",
        r"electric\w*\s+(?:shock|burn)",
        rf"(?:boiling|hot)\s+(?:water|oil|milk)\s+{_W}{{0,3}}(?:spill\w*|fell|poured|burn\w*|"
        r"splash\w*|thrown)",
        rf"spill\w*\s+{_W}{{0,2}}(?:boiling|hot)\s+(?:water|oil)",
        r"acid\s+(?:attack|burn)",
        r"caught\s+fire",
        r"on\s+fire",
    ),
}
